package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// TestE2E_WebSocket connects to the real binary the way the UI does (ws://host:port, no path), makes a
// write over HTTP and receives its event; it resumes with since, receives an event another process
// wrote into the database file, and sees the socket closed with 1001 on SIGTERM.
func TestE2E_WebSocket(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	type envelope struct {
		Type, Event string
		Data        map[string]any
		Timestamp   int64
		Seq         int64
	}
	read := func(c *websocket.Conn) envelope {
		t.Helper()
		_, raw, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		var m envelope
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		return m
	}

	c, resp, err := websocket.Dial(ctx, "ws://"+s.Addr, &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
	if err != nil {
		t.Fatalf("dial: %v\n%s", err, s.Logs())
	}
	defer c.CloseNow()
	if resp.Header.Get("Sec-WebSocket-Extensions") == "" {
		t.Error("permessage-deflate was offered but not negotiated")
	}

	var proj struct{ ID string }
	s.JSON("POST", "/api/projects", map[string]any{"name": "E2E", "workingDir": "/tmp/e2e"}, 201, &proj)
	m := read(c)
	if m.Type != "project:created" || m.Event != "project:created" || m.Data["id"] != proj.ID || m.Seq < 1 || m.Timestamp == 0 {
		t.Fatalf("event = %+v", m)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	if p := read(c); p.Type != "pong" || p.Timestamp == 0 {
		t.Fatalf("pong = %+v", p)
	}

	// A second client resumes from just before the project (the seeded templates' events come earlier):
	// it gets the event again, then live ones.
	c2, _, err := websocket.Dial(ctx, "ws://"+s.Addr+"/api/v2/events/stream?since="+strconv.FormatInt(m.Seq-1, 10), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.CloseNow()
	if r := read(c2); r.Type != "project:created" || r.Seq != m.Seq {
		t.Fatalf("replayed = %+v, want seq %d", r, m.Seq)
	}

	// Another process writes an outbox row into the database file: both sockets receive it.
	db, err := sql.Open("sqlite", store.DSN(filepath.Join(s.DataDir, "maestro.db")))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO events (type, payload, created_at) VALUES ('flag:updated', '{"key":"ws-replay"}', ?)`,
		time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}
	for _, cl := range []*websocket.Conn{c, c2} {
		if r := read(cl); r.Type != "flag:updated" || r.Seq != m.Seq+1 || r.Data["key"] != "ws-replay" {
			t.Fatalf("other process's event = %+v", r)
		}
	}

	// SIGTERM: the sockets close with 1001 and the process exits 0 without waiting for them.
	exited := make(chan int, 1)
	start := time.Now()
	go func() { exited <- s.Stop() }()
	for _, cl := range []*websocket.Conn{c, c2} {
		_, _, err := cl.Read(ctx)
		if code := websocket.CloseStatus(err); code != websocket.StatusGoingAway {
			t.Fatalf("close = %v, want 1001", err)
		}
	}
	if code := <-exited; code != 0 {
		t.Fatalf("exit code %d\n%s", code, s.Logs())
	}
	if d := time.Since(start); d > 8*time.Second {
		t.Fatalf("shutdown took %s with open sockets", d)
	}
}
