package obs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestRedactor_String(t *testing.T) {
	t.Parallel()
	r := NewRedactor("tok-0123456789abcdef", "https://pubkey123456@o1.ingest.example/42", "short")
	cases := []struct {
		name, in string
		gone     []string
		kept     []string
	}{
		{"known token", "token is tok-0123456789abcdef here", []string{"tok-0123456789abcdef"}, []string{"token is", "here"}},
		{"dsn", "dsn https://pubkey123456@o1.ingest.example/42", []string{"pubkey123456", "o1.ingest.example"}, []string{"dsn "}},
		{"other dsn with the key", "https://pubkey123456@other.example/7", []string{"pubkey123456"}, []string{"other.example"}},
		{"dsn key alone", "key pubkey123456", []string{"pubkey123456"}, []string{"key"}},
		{"bearer", "Authorization: Bearer abc.def-ghi", []string{"abc.def-ghi"}, []string{"Bearer"}},
		{"basic", "basic dXNlcjpwYXNz", []string{"dXNlcjpwYXNz"}, nil},
		{"query token", "GET /ws?since=4&token=s3cr3t&x=1", []string{"s3cr3t"}, []string{"since=4", "x=1"}},
		{"url credentials", "postgres://user:pw@db.internal:5432/x", []string{"user:pw"}, []string{"db.internal"}},
		{"file dsn", "open file:/data/m.db?_pragma=key(abc)&_txlock=immediate failed", []string{"key(abc)"}, []string{"file:/data/m.db", "failed"}},
		{"short secrets ignored", "a short word", nil, []string{"short"}},
		{"plain", "nothing to hide", nil, []string{"nothing to hide"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out := r.String(c.in)
			for _, g := range c.gone {
				if strings.Contains(out, g) {
					t.Errorf("%q still contains %q", out, g)
				}
			}
			for _, k := range c.kept {
				if !strings.Contains(out, k) {
					t.Errorf("%q lost %q", out, k)
				}
			}
		})
	}
}

type session struct {
	ID  string            `json:"id"`
	Env map[string]string `json:"env"`
}

type wrapper struct {
	Session session `json:"session"`
	Token   string  `json:"apiToken"`
}

func TestRedactor_logAttrs(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	red := NewRedactor("planted-token-abcdef")
	l, err := NewLogger(LogOptions{Format: "json", Out: &buf, Redactor: red})
	if err != nil {
		t.Fatal(err)
	}
	sess := session{ID: "sess_1", Env: map[string]string{"OPENAI_API_KEY": "sk-planted-env-value"}}
	l.Info("by key", "authorization", "Bearer xyz-planted", "sentry_dsn", "https://k@h/1", "password", "pw-planted")
	l.Info("env map", "env", map[string]string{"GITHUB_TOKEN": "ghp_planted", "HOME": "/home/planted-home"})
	l.Info("nested struct", "data", wrapper{Session: sess, Token: "nested-planted"})
	l.Info("error value", "error", errors.New("dial https://user:pw-in-error@host failed"))
	l.Info("message with planted-token-abcdef inside")
	l.InfoContext(context.Background(), "group", slog.Group("headers", "Authorization", "Bearer grp-planted", "Accept", "*/*"))
	l.Info("env group", slog.Group("env", "MY_SETTING", "env-group-planted", slog.Group("nested", "N", "env-deep-planted")))
	l.WithGroup("envVars").Info("env logger group", "OTHER_SETTING", "env-logger-planted")
	out := buf.String()
	for _, planted := range []string{"xyz-planted", "pw-planted", "ghp_planted", "planted-home", "sk-planted-env-value",
		"nested-planted", "pw-in-error", "planted-token-abcdef", "grp-planted", "https://k@h/1",
		"env-group-planted", "env-deep-planted", "env-logger-planted"} {
		if strings.Contains(out, planted) {
			t.Errorf("log output contains %q:\n%s", planted, out)
		}
	}
	// What is not secret survives: keys of env maps, ids, ordinary headers.
	for _, kept := range []string{"GITHUB_TOKEN", "sess_1", `"Accept":"*/*"`, "OPENAI_API_KEY", "MY_SETTING", "OTHER_SETTING"} {
		if !strings.Contains(out, kept) {
			t.Errorf("log output lost %q:\n%s", kept, out)
		}
	}
}

// TestRedactor_dataKeysNotCached logs a map whose keys come from data: the key-class cache, meant for
// the attribute keys of the code, must not keep them (it would grow with every distinct key logged).
func TestRedactor_dataKeysNotCached(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	l, err := NewLogger(LogOptions{Format: "json", Out: &buf})
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{}
	for i := range 50 {
		data[fmt.Sprintf("data-key-%d-%p", i, &buf)] = map[string]string{"inner-data-key-" + fmt.Sprint(i): "v"}
	}
	l.Info("metadata", "metadata", data)
	for k := range data {
		if _, ok := keyClass.Load(k); ok {
			t.Fatalf("key %q from logged data was cached", k)
		}
	}
	if !strings.Contains(buf.String(), "data-key-0-") {
		t.Fatalf("the map was not logged: %s", buf.String())
	}
}
