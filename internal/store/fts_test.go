package store

import (
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"strings"
	"testing"
)

func TestFTSQuery(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, want string }{
		{"login", `"login"*`},
		{"  Login   bug ", `"Login"* "bug"*`},
		{`foo"bar`, `"foo"* "bar"*`},
		{`title:login`, `"title"* "login"*`},
		{`NEAR(a b)`, `"NEAR"* "a"* "b"*`},
		{`a AND b OR NOT c`, `"a"* "AND"* "b"* "OR"* "NOT"* "c"*`},
		{`^x* -y +z (w)`, `"x"* "y"* "z"* "w"*`},
		{"café_au-lait", `"café"* "au"* "lait"*`},
		{"v2.1", `"v2"* "1"*`},
		{"ログイン", `"ログイン"*`},
		{"", ""},
		{`"' * : ( ) ^ -`, ""},
		{"\x00\xff", ""},
	} {
		if got := ftsQuery(c.in); got != c.want {
			t.Errorf("ftsQuery(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	long := strings.Repeat("w ", 40)
	if n := strings.Count(ftsQuery(long), `"w"*`); n != maestro.MaxSearchWords {
		t.Errorf("%d terms, want at most %d", n, maestro.MaxSearchWords)
	}
}

func TestCursor(t *testing.T) {
	t.Parallel()
	k := keyset{Sort: "createdAt", Filter: "f1", A: 1795608000001, ID: "task_1"}
	c := encodeCursor(k)
	got, err := decodeCursor(c, "createdAt", "f1")
	if err != nil || *got != k {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for _, bad := range []struct{ cursor, sort, filter string }{
		{c, "-createdAt", "f1"}, {c, "createdAt", "f2"}, {"!!", "createdAt", "f1"}, {"e30", "createdAt", "f1"},
		{c[:len(c)-3], "createdAt", "f1"},
	} {
		if _, err := decodeCursor(bad.cursor, bad.sort, bad.filter); err == nil {
			t.Errorf("cursor %q for %s/%s accepted", bad.cursor, bad.sort, bad.filter)
		}
	}
	if k, err := decodeCursor("", "x", "y"); k != nil || err != nil {
		t.Fatal("an empty cursor is the first page")
	}
}
