package httpapi_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/httpapi"
)

// TestServe_shutdownEndsMCPStreams holds the event stream an MCP client opens with GET /mcp (the SDK's
// client does, unless told not to) while the server shuts down. The stream waits for its request's
// context to end, so unless shutdown ends it, Shutdown waits the whole SHUTDOWN_TIMEOUT for it and
// then cuts every connection. The assertion is on that outcome, not on a duration.
func TestServe_shutdownEndsMCPStreams(t *testing.T) {
	t.Parallel()
	entered := make(chan struct{})
	mcp := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		close(entered)
		<-r.Context().Done() // like the SDK's hanging GET
	})
	env := newObsEnv(t, nil, func(o *httpapi.Options) {
		o.MCP = mcp
		o.ShutdownTimeout = 5 * time.Second
		o.AllowedHosts = nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- env.Server.Serve(ctx, ln) }()

	// The client stays connected through the shutdown: its own context is not the server's.
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+ln.Addr().String()+httpapi.MCPPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-entered

	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Serve did not return")
	}
	if lines := env.Logs.Lines(t, "shutdown timed out; closing remaining connections"); len(lines) != 0 {
		t.Fatalf("shutdown waited for the MCP stream until its timeout: %v", lines)
	}
}
