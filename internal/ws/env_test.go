package ws_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/events"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/maestro-hq/maestro-server/internal/store"
	"github.com/maestro-hq/maestro-server/internal/ws"
	"github.com/prometheus/client_golang/prometheus"
)

// uiOrigins are the default WS_ORIGINS.
var uiOrigins = []string{"tauri://localhost", "http://tauri.localhost", "https://tauri.localhost",
	"http://localhost:*", "https://localhost:*", "http://127.0.0.1:*", "https://127.0.0.1:*"}

// env is a real server on a loopback listener: store, hub (tailing and pruning), services, the whole
// HTTP handler chain and the WebSocket server.
type env struct {
	t     *testing.T
	st    *store.Store
	hub   *events.Hub
	ws    *ws.Server
	srv   *httptest.Server
	reg   *prometheus.Registry
	wsURL string
}

type envConfig struct {
	hub  events.Options
	ws   ws.Options
	http httpapi.Options
	// sendBuffer, when set, is the TCP send buffer of every accepted connection: small, it makes a client
	// that stops reading push back on the server after a few kilobytes instead of megabytes.
	sendBuffer int
}

func newEnv(t *testing.T, configure ...func(*envConfig)) *env {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st := dbtest.New(t)
	reg := prometheus.NewRegistry()
	cfg := envConfig{
		hub: events.Options{Logger: log, Registerer: reg},
		ws: ws.Options{
			Logger: log, Origins: uiOrigins, Registerer: reg,
			StreamingFlag: string(flags.WSStreaming), V2Flag: string(flags.APIV2),
		},
	}
	for _, c := range configure {
		c(&cfg)
	}
	hub, err := events.New(context.Background(), st, cfg.hub)
	if err != nil {
		t.Fatal(err)
	}
	st.SetPublisher(hub)
	ctx, cancel := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(ctx) }()

	cfg.ws.Hub = hub
	sockets := ws.New(cfg.ws)
	o := cfg.http
	o.Services = service.New(st, service.Options{Logger: log})
	o.Logger = log
	o.WebSocket, o.WSStatus, o.EventLog = sockets, sockets.Status, hub
	srv := httptest.NewUnstartedServer(httpapi.New(o).Handler())
	if cfg.sendBuffer > 0 {
		srv.Listener = sendBufferListener{srv.Listener, cfg.sendBuffer}
	}
	srv.Start()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer scancel()
		if err := sockets.Shutdown(sctx); err != nil {
			t.Errorf("ws shutdown: %v", err)
		}
		srv.Close()
		cancel()
		<-hubDone
	})
	return &env{t: t, st: st, hub: hub, ws: sockets, srv: srv, reg: reg, wsURL: "ws" + strings.TrimPrefix(srv.URL, "http")}
}

// dial opens a WebSocket on path (which may carry a query) and fails the test when that is refused.
func (e *env) dial(path string, opts *websocket.DialOptions) *client {
	e.t.Helper()
	c, resp, err := e.tryDial(path, opts)
	if err != nil {
		status := 0
		var body []byte
		if resp != nil {
			status = resp.StatusCode
			body, _ = io.ReadAll(resp.Body)
		}
		e.t.Fatalf("dial %s: %v (status %d) %s", path, err, status, body)
	}
	return c
}

func (e *env) tryDial(path string, opts *websocket.DialOptions) (*client, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, e.wsURL+path, opts)
	if err != nil {
		return nil, resp, err
	}
	conn.SetReadLimit(-1)
	cl := &client{t: e.t, c: conn, resp: resp}
	e.t.Cleanup(func() { _ = conn.CloseNow() })
	return cl, resp, nil
}

// do sends an HTTP request like the real clients (JSON content type) and returns the response and body.
func (e *env) do(method, path string, body any, headers ...string) (*http.Response, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, raw
}

// must sends a request, requires the status, and decodes the body into a map.
func (e *env) must(method, path string, body any, status int) map[string]any {
	e.t.Helper()
	resp, raw := e.do(method, path, body)
	if resp.StatusCode != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, raw)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		e.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return m
}

// sql opens a second handle on the database file, as another process (or a test fixture) would.
func (e *env) sql() *sql.DB {
	e.t.Helper()
	db, err := sql.Open("sqlite", store.DSN(e.st.Path()))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = db.Close() })
	return db
}

// emit commits n events straight through the store (fast writes for the concurrency tests).
func (e *env) emit(typ string, n int) {
	e.t.Helper()
	err := e.st.InTx(context.Background(), func(q *store.Q) error {
		for i := 0; i < n; i++ {
			if err := q.Emit(context.Background(), typ, "p1", map[string]int{"i": i}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Error(err)
	}
}

// client is one test WebSocket client.
type client struct {
	t    *testing.T
	c    *websocket.Conn
	resp *http.Response
}

// msg is any server message, both envelopes included.
type msg struct {
	Type      string          `json:"type"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Timestamp int64           `json:"timestamp"`
	Seq       int64           `json:"seq"`
	RequestID string          `json:"requestId"`
	raw       map[string]json.RawMessage
}

// read reads one message, failing the test after 10 s.
func (cl *client) read() msg {
	cl.t.Helper()
	m, err := cl.tryRead(10 * time.Second)
	if err != nil {
		cl.t.Fatalf("read: %v", err)
	}
	return m
}

func (cl *client) tryRead(timeout time.Duration) (msg, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	typ, raw, err := cl.c.Read(ctx)
	if err != nil {
		return msg{}, err
	}
	if typ != websocket.MessageText {
		return msg{}, errors.New("binary message")
	}
	var m msg
	if err := json.Unmarshal(raw, &m); err != nil {
		return msg{}, err
	}
	if err := json.Unmarshal(raw, &m.raw); err != nil {
		return msg{}, err
	}
	return m, nil
}

// send writes a text message.
func (cl *client) send(s string) {
	cl.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		cl.t.Fatalf("write: %v", err)
	}
}

// ping sends {"type":"ping"} and reads until the pong, returning the messages before it.
func (cl *client) ping() []msg {
	cl.t.Helper()
	cl.send(`{"type":"ping"}`)
	var before []msg
	for {
		m := cl.read()
		if m.Type == "pong" {
			return before
		}
		before = append(before, m)
	}
}

// closeStatus reads until the connection ends and returns the close code (-1 when it ended without one).
func (cl *client) closeStatus(timeout time.Duration) websocket.StatusCode {
	cl.t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		_, err := cl.tryRead(time.Until(deadline))
		if err != nil {
			return websocket.CloseStatus(err)
		}
	}
	cl.t.Fatalf("connection still open after %s", timeout)
	return 0
}

type sendBufferListener struct {
	net.Listener
	size int
}

func (l sendBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		_ = c.(*net.TCPConn).SetWriteBuffer(l.size)
	}
	return c, err
}

// smallReceiveBuffer dials with a tiny TCP receive buffer, so that a client that stops reading pushes
// back on the server after a few hundred kilobytes instead of tens of megabytes (loopback autotuning).
func smallReceiveBuffer() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			_ = c.(*net.TCPConn).SetReadBuffer(16 << 10)
			return c, nil
		},
	}}
}
