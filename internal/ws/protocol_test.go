package ws_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestLegacySocket_PingAndIgnoredMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	cl := e.dial("/", nil)
	before := time.Now().UnixMilli()
	cl.send(`{"type":"ping"}`)
	m := cl.read()
	if m.Type != "pong" || m.Timestamp < before || m.Timestamp > time.Now().UnixMilli() {
		t.Fatalf("pong = %+v", m)
	}
	if keys := sortedKeys(m.raw); keys != "timestamp,type" {
		t.Fatalf("pong keys %s, want only type and timestamp", keys)
	}
	// Anything else is ignored and the socket stays open.
	for _, s := range []string{`not json`, `{"type":"subscribe","channel":"x"}`, `[1,2]`, `{"type":"PING"}`, ``} {
		cl.send(s)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.c.Write(ctx, websocket.MessageBinary, []byte{0xff, 0x00}); err != nil {
		t.Fatal(err)
	}
	// A JSON ping sent as a binary frame is a ping too (the predecessor parsed both).
	if err := cl.c.Write(ctx, websocket.MessageBinary, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	if m := cl.read(); m.Type != "pong" {
		t.Fatalf("got %+v, want a pong", m)
	}
	if got := cl.ping(); len(got) != 0 {
		t.Fatalf("unexpected messages %v", types(got))
	}
}

func TestSockets_Compression(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/", "/api/v2/events/stream"} {
		offered := e.dial(path, &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
		ext := offered.resp.Header.Get("Sec-WebSocket-Extensions")
		if !strings.HasPrefix(ext, "permessage-deflate") || strings.Contains(ext, "no_context_takeover") {
			t.Fatalf("%s: Sec-WebSocket-Extensions = %q, want permessage-deflate with context takeover", path, ext)
		}
		plain := e.dial(path, nil)
		if ext := plain.resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
			t.Fatalf("%s: Sec-WebSocket-Extensions = %q when the client offered nothing", path, ext)
		}
		// A large event goes through both (compressed above the library's 128-byte threshold).
		long := strings.Repeat("compressible ", 400)
		p := e.must("POST", "/api/projects", map[string]any{"name": "P", "workingDir": "/tmp/p", "description": long}, 201)
		for _, cl := range []*client{offered, plain} {
			got := cl.ping()
			var d map[string]any
			if len(got) != 1 || json.Unmarshal(got[0].Data, &d) != nil || d["id"] != p["id"] || d["description"] != long {
				t.Fatalf("%s: got %v", path, types(got))
			}
		}
	}
}

func TestSockets_Origin(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *envConfig) { c.ws.Origins = append(uiOrigins, "https://ops.example.com") })
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"tauri://localhost", true},
		{"http://tauri.localhost", true},
		{"http://localhost:5173", true},
		{"http://127.0.0.1:3000", true},
		{"https://ops.example.com", true},
		{"https://evil.example", false},
		{"http://localhost.evil.example", false},
		{"null", false},
	} {
		for _, path := range []string{"/", "/api/v2/events/stream"} {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			cl, resp, err := e.tryDial(path, &websocket.DialOptions{HTTPHeader: h})
			if tc.ok {
				if err != nil {
					t.Fatalf("origin %q on %s refused: %v", tc.origin, path, err)
				}
				_ = cl.c.CloseNow()
				continue
			}
			if err == nil {
				t.Fatalf("origin %q on %s accepted", tc.origin, path)
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("origin %q on %s: %v, want 403", tc.origin, path, err)
			}
			wantType := "application/json"
			if path != "/" {
				wantType = "application/problem+json"
			}
			if ct := resp.Header.Get("Content-Type"); ct != wantType {
				t.Fatalf("origin %q on %s: Content-Type %q, want %q", tc.origin, path, ct, wantType)
			}
		}
	}
}

func TestSockets_Token(t *testing.T) {
	t.Parallel()
	const token = "0123456789abcdef-token"
	e := newEnv(t, func(c *envConfig) { c.http.APIToken = token })
	if _, resp, err := e.tryDial("/", nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %v, want 401", err)
	}
	if _, resp, err := e.tryDial("/api/v2/events/stream?token=wrong", nil); err == nil || resp.StatusCode != http.StatusUnauthorized ||
		resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("wrong token on the stream: %v, want 401 problem+json", err)
	}
	e.dial("/?token="+token, nil)
	e.dial("/api/v2/events/stream", &websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
}

func TestSockets_BadParameters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		path   string
		status int
		field  string
	}{
		{"/?since=abc", 400, "since"},
		{"/?since=-1", 400, "since"},
		{"/api/v2/events/stream?since=1.5", 422, "since"},
		{"/api/v2/events/stream?types=task:created,nope:nothing", 422, "types"},
		{"/api/v2/events/stream?types=", 422, "types"},
		{"/api/v2/events/stream?projectId=,", 422, "projectId"},
	} {
		_, resp, err := e.tryDial(tc.path, nil)
		if err == nil || resp == nil || resp.StatusCode != tc.status {
			t.Fatalf("%s: %v, want %d", tc.path, err, tc.status)
		}
		var body struct {
			Code    string         `json:"code"`
			Details map[string]any `json:"details"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Code != "VALIDATION_ERROR" || body.Details["field"] != tc.field {
			t.Fatalf("%s: body %+v (%v)", tc.path, body, err)
		}
	}
}

func TestStream_Filters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	p1 := e.must("POST", "/api/projects", map[string]any{"name": "A", "workingDir": "/a"}, 201)["id"].(string)
	p2 := e.must("POST", "/api/projects", map[string]any{"name": "B", "workingDir": "/b"}, 201)["id"].(string)
	byType := e.dial("/api/v2/events/stream?types=task:created&types=project:updated", nil)
	byProject := e.dial("/api/v2/events/stream?projectId="+p2, nil)
	both := e.dial("/api/v2/events/stream?types=task:created,task:updated&projectId="+p1+","+p2, nil)

	e.must("POST", "/api/tasks", map[string]any{"projectId": p1, "title": "t1"}, 201)
	e.must("PUT", "/api/projects/"+p2, map[string]any{"name": "B2"}, 200)
	e.must("POST", "/api/tasks", map[string]any{"projectId": p2, "title": "t2"}, 201)
	// An event without a project is left out by a projectId filter.
	var seq int64
	if err := e.sql().QueryRow(`INSERT INTO events (type, payload, created_at) VALUES ('flag:updated', '{}', 1)
		RETURNING seq`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return e.hub.LastSeq() >= seq }) // the tail published it
	e.must("POST", "/api/projects", map[string]any{"name": "C", "workingDir": "/c"}, 201)

	for _, tc := range []struct {
		cl   *client
		want string
	}{
		{byType, "task:created,project:updated,task:created"},
		{byProject, "project:updated,task:created"},
		{both, "task:created,task:created"},
	} {
		if got := strings.Join(types(tc.cl.ping()), ","); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}

func TestStream_PlainGET(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, raw := e.do("GET", "/api/v2/events/stream", nil)
	if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Upgrade") != "websocket" ||
		!strings.Contains(string(raw), `"UPGRADE_REQUIRED"`) {
		t.Fatalf("GET without upgrade: %d %v %s", resp.StatusCode, resp.Header, raw)
	}
}

func TestSockets_StatusAndMetrics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.dial("/", nil)
	b := e.dial("/api/v2/events/stream", nil)
	var st struct {
		ConnectedClients int `json:"connectedClients"`
		Clients          []struct {
			ReadyState     int    `json:"readyState"`
			ReadyStateText string `json:"readyStateText"`
		} `json:"clients"`
	}
	// The client can see the 101 a moment before the server's handler marks the socket OPEN.
	var raw []byte
	waitFor(t, func() bool {
		raw, _ = json.Marshal(e.must("GET", "/ws-status", nil, 200))
		st.Clients = nil
		_ = json.Unmarshal(raw, &st)
		return len(st.Clients) == 2 && st.Clients[0].ReadyState == 1 && st.Clients[1].ReadyState == 1
	})
	if st.ConnectedClients != 2 || len(st.Clients) != 2 || st.Clients[0].ReadyState != 1 || st.Clients[0].ReadyStateText != "OPEN" {
		t.Fatalf("/ws-status = %s", raw)
	}
	if v := gauge(t, e, "maestro_ws_connections"); v != 2 {
		t.Fatalf("maestro_ws_connections = %v, want 2", v)
	}
	e.must("POST", "/api/projects", map[string]any{"name": "A", "workingDir": "/a"}, 201)
	a.ping()
	b.ping()
	// The counter moves after the server's write returns, which can be just after the client read it.
	waitFor(t, func() bool { return gauge(t, e, "maestro_ws_messages_sent_total") >= 4 })
	if v := gauge(t, e, "maestro_ws_messages_sent_total"); v != 4 {
		t.Fatalf("maestro_ws_messages_sent_total = %v, want 4 (an event and a pong each)", v)
	}
	_ = a.c.Close(websocket.StatusNormalClosure, "")
	_ = b.c.Close(websocket.StatusNormalClosure, "")
	waitFor(t, func() bool { return e.ws.Status().ConnectedClients == 0 })
	if v := gauge(t, e, "maestro_ws_connections"); v != 0 {
		t.Fatalf("maestro_ws_connections = %v after closing, want 0", v)
	}
	if raw, _ := json.Marshal(e.must("GET", "/ws-status", nil, 200)); string(raw) != `{"clients":[],"connectedClients":0}` {
		t.Fatalf("/ws-status = %s", raw)
	}
}

func gauge(t *testing.T, e *env, name string) float64 {
	t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			m := mf.GetMetric()[0]
			if m.GetGauge() != nil {
				return m.GetGauge().GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
