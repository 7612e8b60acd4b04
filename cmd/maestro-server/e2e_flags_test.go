package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestE2E_FlagsCommandWhileServing runs the real `maestro-server flags` in its own process against the
// database of a running server: the server applies each change within a second, and the API shows who
// made it.
func TestE2E_FlagsCommandWhileServing(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	flagsCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binPath, append([]string{"flags"}, args...)...)
		cmd.Env = []string{"HOME=" + s.DataDir, "PATH=" + os.Getenv("PATH"), "DATA_DIR=" + s.DataDir, "USER=ops"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("flags %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	v2Status := func() int {
		st, _ := s.Do("GET", "/api/v2/projects", nil)
		return st
	}
	waitFor := func(want int) {
		t.Helper()
		deadline := time.Now().Add(time.Second)
		for v2Status() != want {
			if time.Now().After(deadline) {
				t.Fatalf("GET /api/v2/projects: not %d within 1s of the flags command\n%s", want, s.Logs())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if v2Status() != 200 {
		t.Fatal("v2 off at start")
	}
	time.Sleep(300 * time.Millisecond) // the server's change feed takes its baseline

	if out := flagsCmd("set", "api-v2", "off"); !strings.Contains(out, "api-v2: off") {
		t.Fatalf("set: %s", out)
	}
	waitFor(404)
	var flag struct {
		Enabled   bool   `json:"enabled"`
		UpdatedBy string `json:"updatedBy"`
	}
	s.JSON("GET", "/api/v2/flags/api-v2", nil, 200, &flag)
	if flag.Enabled || !strings.HasPrefix(flag.UpdatedBy, "cli:") {
		t.Fatalf("flag after the command: %+v", flag)
	}
	if out := flagsCmd("unset", "api-v2"); !strings.Contains(out, "(default)") {
		t.Fatalf("unset: %s", out)
	}
	waitFor(200)
	if !strings.Contains(s.Logs(), "feature flag changed") {
		t.Error("the server did not log the flag change")
	}
}
