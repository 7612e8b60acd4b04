package app

import (
	"context"
	"net"
	"runtime"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/config"
)

// TestRun_startupFailureStopsBackgroundWork fails the last start-up step that can fail (the debug
// listener's address is taken) after Run has started all its background work, and checks that Run
// returns only once every goroutine it started has ended: nothing may go on writing through the store,
// or reading it, after the store closed.
//
// Not parallel: it inspects every goroutine of the test binary, and the package's parallel tests run
// only after the sequential ones.
func TestRun_startupFailureStopsBackgroundWork(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	dir := t.TempDir()
	env := map[string]string{
		"PORT": "0", "DATA_DIR": dir + "/data", "SESSION_DIR": dir + "/sessions", "SKILLS_DIR": dir + "/skills",
		"LOG_FORMAT": "json", "DEBUG_ADDR": busy.Addr().String(),
	}
	cfg, err := config.Load(config.Source{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}

	var logs lockedBuffer
	err = Run(context.Background(), cfg, &logs)
	if err == nil || !strings.Contains(err.Error(), "DEBUG_ADDR") {
		t.Fatalf("Run = %v, want the DEBUG_ADDR listen error\n%s", err, logs.String())
	}
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, fn := range []string{
		"events.(*Hub).Run", "skills.(*Loader).Watch", "store.(*Store).PruneIdempotencyKeysEvery", "service.(*Audit).Run",
		"ws.(*Server).Shutdown", "flags.(*Flags).follow", "store.(*Store).pollDataVersion",
	} {
		if strings.Contains(stacks, fn) {
			t.Errorf("a goroutine in %s is still running after Run returned", fn)
		}
	}
	if t.Failed() {
		t.Logf("goroutines:\n%s", stacks)
	}
}

// TestStartObservability_warnsWhenOtherMachinesWouldBeRefused: HOST=0.0.0.0 lets other machines connect,
// but the DNS-rebinding guard answers them 403 until ALLOWED_HOSTS names what they call the server, so
// start-up says so once, and not when ALLOWED_HOSTS is set or the server stays on loopback.
func TestStartObservability_warnsWhenOtherMachinesWouldBeRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		env  map[string]string
		warn bool
	}{
		{"all interfaces, no names", map[string]string{"HOST": "0.0.0.0", "MAESTRO_API_TOKEN": "t0ken-for-the-tests-here"}, true},
		{"all interfaces, names", map[string]string{"HOST": "0.0.0.0", "MAESTRO_API_TOKEN": "t0ken-for-the-tests-here", "ALLOWED_HOSTS": "box.lan"}, false},
		{"loopback", map[string]string{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			env := map[string]string{"PORT": "0", "DATA_DIR": dir, "LOG_FORMAT": "json"}
			for k, v := range tc.env {
				env[k] = v
			}
			cfg, err := config.Load(config.Source{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }})
			if err != nil {
				t.Fatal(err)
			}
			var logs lockedBuffer
			logger, _, _, err := startObservability(cfg, &logs)
			if err != nil {
				t.Fatal(err)
			}
			_ = logger.Close()
			if got := strings.Contains(logs.String(), "ALLOWED_HOSTS"); got != tc.warn {
				t.Fatalf("warning logged = %v, want %v\n%s", got, tc.warn, logs.String())
			}
		})
	}
}
