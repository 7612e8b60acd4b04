package origin

import "testing"

func TestMatcher_Allowed(t *testing.T) {
	t.Parallel()
	m := New([]string{"tauri://localhost", "http://localhost:*", "https://127.0.0.1:*", "https://app.example.com"})
	cases := []struct {
		origin string
		want   bool
	}{
		{"tauri://localhost", true},
		{"TAURI://LOCALHOST", true},
		{"http://localhost:5173", true},
		{"http://localhost", true},
		{"http://localhost:", false},
		{"http://localhost:5173x", false},
		{"http://localhost.evil.com", false},
		{"http://localhostevil:80", false},
		{"https://localhost:5173", false},
		{"https://127.0.0.1:8443", true},
		{"https://app.example.com", true},
		{"https://app.example.com:444", false},
		{"null", false},
		{"", false},
	}
	for _, c := range cases {
		if got := m.Allowed(c.origin); got != c.want {
			t.Errorf("Allowed(%q) = %v, want %v", c.origin, got, c.want)
		}
	}
}
