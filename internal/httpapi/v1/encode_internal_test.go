package v1

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// tricky are strings encoding/json treats specially: quotes, backslashes, control characters, HTML
// characters (left alone with HTML escaping off), non-ASCII, U+2028/U+2029 (always escaped), and
// invalid UTF-8 (replaced by U+FFFD).
var tricky = []string{"", "plain", `quo"te`, `back\slash`, "new\nline\ttab\r\b\f\x00\x1f", "<a href='x'>&amp;</a>",
	"héllo wörld ✓ 日本", "line\u2028sep\u2029para", "bad \xff\xfe utf8", "\x7f del", "emoji 🎼"}

func pick(r *rand.Rand) string { return tricky[r.IntN(len(tricky))] }

func randomTask(r *rand.Rand) maestro.Task {
	strs := func() []string {
		switch r.IntN(3) {
		case 0:
			return nil
		case 1:
			return []string{}
		}
		out := make([]string, 1+r.IntN(3))
		for i := range out {
			out[i] = pick(r)
		}
		return out
	}
	ptr := func() *string {
		if r.IntN(2) == 0 {
			return nil
		}
		s := pick(r)
		return &s
	}
	num := func() *int64 {
		if r.IntN(2) == 0 {
			return nil
		}
		n := r.Int64() - r.Int64()
		return &n
	}
	return maestro.Task{ID: pick(r), ProjectID: pick(r), ParentID: ptr(), Title: pick(r), Description: pick(r),
		Status: pick(r), SessionStatus: ptr(), Priority: pick(r), CreatedAt: r.Int64(), UpdatedAt: -r.Int64(),
		StartedAt: num(), CompletedAt: num(), InitialPrompt: pick(r), SessionIDs: strs(), SkillIDs: strs(),
		AgentIDs: strs(), Dependencies: strs()}
}

func encodeBoth(t *testing.T, v any) (fast, std []byte) {
	t.Helper()
	var a, b bytes.Buffer
	if err := jsonFormat.Marshal(&a, v); err != nil {
		t.Fatal(err)
	}
	if err := huma.DefaultJSONFormat.Marshal(&b, v); err != nil {
		t.Fatal(err)
	}
	return a.Bytes(), b.Bytes()
}

func TestEncoders_MatchEncodingJSON(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		tk := randomTask(r)
		for _, v := range []any{tk, &tk, []maestro.Task{tk, randomTask(r)}} {
			if fast, std := encodeBoth(t, v); !bytes.Equal(fast, std) {
				t.Fatalf("case %d (%T):\nfast %s\nstd  %s", i, v, fast, std)
			}
		}
	}
	for _, v := range []any{[]maestro.Task(nil), []maestro.Task{}} {
		if fast, std := encodeBoth(t, v); !bytes.Equal(fast, std) {
			t.Fatalf("%#v: fast %s, std %s", v, fast, std)
		}
	}
	uptimes := []float64{0, 1, 0.5, 123.456789, 1e-7, 3.2e-9, 1e21, 1.5e22, 86400.000001, -2.5, 1e20, 0.000001}
	for i, up := range uptimes {
		h := Health{Status: pick(r), Timestamp: r.Int64(), Uptime: up}
		if i%3 != 0 {
			h.Components = map[string]ComponentHealth{"skills": {Status: "ok"}, "database": {Status: "degraded", Reason: pick(r)},
				pick(r): {Status: pick(r)}}
		} else if i%2 == 0 {
			h.Components = map[string]ComponentHealth{}
		}
		if fast, std := encodeBoth(t, h); !bytes.Equal(fast, std) {
			t.Fatalf("health %v:\nfast %s\nstd  %s", up, fast, std)
		}
	}
	// Anything else goes to the default encoder.
	if fast, std := encodeBoth(t, map[string]any{"a": []int{1}}); !bytes.Equal(fast, std) {
		t.Fatalf("fallback: %s vs %s", fast, std)
	}
}

func BenchmarkEncodeTask(b *testing.B) {
	parent, started := "task_1733300000000_parent00", int64(1733300000500)
	tk := maestro.Task{ID: "task_1733300000000_abcdefgh", ProjectID: "proj_1733300000000_abcdefgh", ParentID: &parent,
		Title: "listed task 42", Description: "a task in the listed project", Status: "in_progress", Priority: "medium",
		CreatedAt: 1733300000000, UpdatedAt: 1733300000900, StartedAt: &started,
		SessionIDs: []string{"sess_1733300000000_abcdefgh"}, SkillIDs: []string{}, AgentIDs: []string{}, Dependencies: []string{}}
	for _, f := range []struct {
		name string
		fmt  huma.Format
	}{{"hand", jsonFormat}, {"encoding-json", huma.DefaultJSONFormat}} {
		b.Run(f.name, func(b *testing.B) {
			var w bytes.Buffer
			b.ReportAllocs()
			for range b.N {
				w.Reset()
				_ = f.fmt.Marshal(&w, tk)
			}
		})
	}
}
