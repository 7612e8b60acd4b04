package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestE2E_FlagsGateWebSockets toggles the streaming flags on the real binary and checks what each does
// to WebSockets: ws-streaming off closes open sockets with 1013 and refuses new ones with 503; ws-replay
// off answers since with one resync; api-v2 off refuses the v2 stream while the legacy socket works.
func TestE2E_FlagsGateWebSockets(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	setFlag := func(key string, on bool) {
		t.Helper()
		s.JSON("PUT", "/api/v2/flags/"+key, map[string]any{"enabled": on}, 200, nil)
	}
	dial := func(path string) (*websocket.Conn, *http.Response, error) {
		return websocket.Dial(ctx, "ws://"+s.Addr+path, nil)
	}
	readType := func(c *websocket.Conn) string {
		t.Helper()
		_, raw, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var m struct{ Type string }
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m.Type
	}

	c, _, err := dial("/")
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	setFlag("ws-streaming", false)
	// The socket first receives the flag:updated event, then is closed with 1013 (try again later).
	var closeErr websocket.CloseError
	for {
		if _, _, err := c.Read(ctx); err != nil {
			if !errors.As(err, &closeErr) || closeErr.Code != websocket.StatusTryAgainLater {
				t.Fatalf("socket ended with %v, want close 1013", err)
			}
			break
		}
	}
	if _, resp, err := dial("/"); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("upgrade with streaming off: %v %v", err, resp)
	}
	setFlag("ws-streaming", true)

	setFlag("ws-replay", false)
	c2, _, err := dial("/?since=0")
	if err != nil {
		t.Fatal(err)
	}
	defer c2.CloseNow()
	if got := readType(c2); got != "resync" {
		t.Fatalf("since with replay off: first message %q, want resync", got)
	}
	setFlag("ws-replay", true)
	if got := readType(c2); got != "flag:updated" {
		t.Fatalf("after resync the socket is live: got %q", got)
	}

	setFlag("api-v2", false)
	if _, resp, err := dial("/api/v2/events/stream"); err == nil || resp == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("v2 stream with api-v2 off: %v %v", err, resp)
	}
	c3, _, err := dial("/")
	if err != nil {
		t.Fatalf("the legacy socket is v1 and stays open with api-v2 off: %v", err)
	}
	c3.CloseNow()
	setFlag("api-v2", true)
	c4, _, err := dial("/api/v2/events/stream")
	if err != nil {
		t.Fatalf("v2 stream after api-v2 is back on: %v", err)
	}
	c4.CloseNow()
}
