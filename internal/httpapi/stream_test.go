package httpapi_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
)

// TestMCPStream_longLived: an MCP client's standalone event stream (GET /mcp, Accept:
// text/event-stream) is treated like a WebSocket. With MAX_IN_FLIGHT 1 and the stream open, other
// requests are still served (the stream holds no slot); the stream has no request deadline; and it
// outlives the server's write timeout, which still applies to an ordinary GET of /mcp.
func TestMCPStream_longLived(t *testing.T) {
	t.Parallel()
	const writeTimeout = 300 * time.Millisecond
	streaming := make(chan struct{}, 1)
	env := apitest.New(t, func(o *httpapi.Options) {
		o.MaxInFlight = 1
		o.RequestTimeout = time.Minute
		o.MCP = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			stream := strings.Contains(r.Header.Get("Accept"), "text/event-stream")
			if _, ok := r.Context().Deadline(); ok == stream {
				t.Errorf("GET /mcp (stream %v): request deadline %v", stream, ok)
			}
			w.Header().Set("Content-Type", "text/event-stream")
			w.WriteHeader(http.StatusOK)
			w.(http.Flusher).Flush()
			if !stream {
				// An ordinary GET that writes past the write timeout: its connection is cut.
				time.Sleep(2 * writeTimeout)
				_, _ = w.Write([]byte("late\n"))
				return
			}
			streaming <- struct{}{}
			// Events keep coming past the write timeout, until the client goes away.
			for i := 0; ; i++ {
				select {
				case <-r.Context().Done():
					return
				case <-time.After(writeTimeout / 3):
				}
				if _, err := w.Write([]byte("data: tick\n\n")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		})
	})
	srv := httptest.NewUnstartedServer(env.Handler)
	srv.Config.WriteTimeout = writeTimeout
	srv.Start()
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/mcp", nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	<-streaming

	// The only slot is free: the stream does not hold it.
	for range 3 {
		r, err := http.Get(srv.URL + "/api/v1/projects")
		if err != nil {
			t.Fatal(err)
		}
		_ = r.Body.Close()
		if r.StatusCode != 200 {
			t.Fatalf("a request beside the open stream: %d, want 200", r.StatusCode)
		}
	}

	// Events still arrive after three write timeouts.
	sc := bufio.NewScanner(resp.Body)
	deadline := time.Now().Add(3 * writeTimeout)
	ticks := 0
	for sc.Scan() {
		if sc.Text() == "data: tick" {
			ticks++
		}
		if time.Now().After(deadline) {
			break
		}
	}
	if time.Now().Before(deadline) {
		t.Fatalf("the stream ended after %d events, before %s: %v", ticks, 3*writeTimeout, sc.Err())
	}
	cancel()

	// An ordinary GET of /mcp is still bound by the write timeout.
	r, err := http.Get(srv.URL + "/mcp")
	if err == nil {
		var b strings.Builder
		_, err = bufio.NewReader(r.Body).WriteTo(&b)
		_ = r.Body.Close()
		if err == nil && strings.Contains(b.String(), "late") {
			t.Fatalf("a plain GET outlived the write timeout: %q", b.String())
		}
	}
}
