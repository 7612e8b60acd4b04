package manifesttest

import (
	"strings"
	"testing"
)

// TestFixtures_ValidAndOrdered checks the checker itself: the predecessor's manifests pass the schema
// and their own key order, except the one quirk we do not copy ("skills": [""] is still valid JSON
// Schema-wise, so it passes too).
func TestFixtures_ValidAndOrdered(t *testing.T) {
	t.Parallel()
	fx := Fixtures()
	if len(fx) != 3 {
		t.Fatalf("want 3 fixtures, got %d", len(fx))
	}
	for name, b := range fx {
		if err := Validate(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if err := CheckKeyOrder(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestValidate_RejectsWhatTheCLIRejects proves the schema check can fail: an unknown key, a tree
// strategy, a bad priority, no tasks.
func TestValidate_RejectsWhatTheCLIRejects(t *testing.T) {
	t.Parallel()
	base := string(Fixtures()["worker-simple-one-skill.json"])
	cases := map[string]string{
		"unknown root key": strings.Replace(base, `"manifestVersion"`, `"extra": 1, "manifestVersion"`, 1),
		"tree strategy":    strings.Replace(base, `"strategy": "simple"`, `"strategy": "tree"`, 1),
		"urgent priority":  strings.Replace(base, `"priority": "medium"`, `"priority": "urgent"`, 1),
		"unknown task key": strings.Replace(base, `"title"`, `"status2": "x", "title"`, 1),
		"non-string skill": strings.Replace(base, `"test-skill"`, `1`, 1),
	}
	for name, doc := range cases {
		if doc == base {
			t.Fatalf("%s: replacement did not apply", name)
		}
		if err := Validate([]byte(doc)); err == nil {
			t.Errorf("%s: schema accepted it", name)
		}
	}
}

func TestCheckKeyOrder_RejectsReorderedAndExtraKeys(t *testing.T) {
	t.Parallel()
	base := string(Fixtures()["worker-simple-one-skill.json"])
	swapped := strings.Replace(base, `"manifestVersion": "1.0",
  "role": "worker",`, `"role": "worker",
  "manifestVersion": "1.0",`, 1)
	if swapped == base {
		t.Fatal("replacement did not apply")
	}
	if err := CheckKeyOrder([]byte(swapped)); err == nil {
		t.Error("reordered root keys passed")
	}
	extra := strings.Replace(base, `"model": "sonnet",`, `"model": "sonnet", "maxTurns": 3,`, 1)
	if err := CheckKeyOrder([]byte(extra)); err == nil {
		t.Error("a key the predecessor never wrote passed")
	}
}
