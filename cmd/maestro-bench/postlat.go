package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// postlatLevel is what the postlat mode measured with one number of connected sockets.
type postlatLevel struct {
	Sockets   int     `json:"sockets"`
	Requests  int     `json:"requests"`
	PerSec    float64 `json:"requestsPerSecond"`
	P50ms     float64 `json:"p50Ms"`
	P90ms     float64 `json:"p90Ms"`
	P99ms     float64 `json:"p99Ms"`
	MaxMs     float64 `json:"maxMs"`
	Delivered int64   `json:"delivered"`
	Expected  int64   `json:"expected"`
}

// runPostLat measures what a write costs its caller while sockets are connected: since the reply of a
// write waits until the request's events were written to every live socket (DESIGN §12), its latency
// grows with the number of sockets. For each level of -sockets (connected cumulatively, so the levels
// must increase), it sends -requests POST /api/tasks one after the other, like one client (or from
// -concurrency such clients, which shows whether one request's wait holds up the others' commits), and
// reports the writes per second and the round trip p50/p90/p99/max; the sockets read everything, as the
// UI does.
func runPostLat(args []string) error {
	fs := flag.NewFlagSet("postlat", flag.ContinueOnError)
	var tf targetFlags
	tf.register(fs)
	levels := fs.String("sockets", "0,10,1000", "comma-separated increasing numbers of connected sockets")
	requests := fs.Int("requests", 500, "POST /api/tasks per level")
	conc := fs.Int("concurrency", 1, "concurrent writers, each sending its next POST when its last reply arrived (1: one client)")
	compress := fs.Bool("compress", false, "offer permessage-deflate, as browsers do")
	path := fs.String("path", "/", "WebSocket path: / (legacy socket) or /api/v2/events/stream")
	payload := fs.Int("payload", 0, "bytes of description text in each task")
	asJSON := fs.Bool("json", false, "also print the result as one JSON line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var want []int
	for _, f := range strings.Split(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || (len(want) > 0 && n < want[len(want)-1]) {
			return fmt.Errorf("-sockets must be increasing numbers >= 0: %q", *levels)
		}
		want = append(want, n)
	}
	if *requests < 1 || *conc < 1 {
		return errors.New("-requests and -concurrency must be positive")
	}
	tgt, err := tf.start()
	if err != nil {
		return err
	}
	defer func() {
		if err := tgt.Close(); err != nil {
			fmt.Println("maestro-bench: stopping the server:", err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc}}
	var proj struct{ ID string }
	if _, err := postJSON(ctx, httpc, "POST", tgt.URL+"/api/projects", map[string]any{"name": "postlat", "workingDir": "/tmp/bench"}, &proj); err != nil {
		return err
	}
	fmt.Printf("maestro-bench postlat: %s, sockets on %s (permessage-deflate offered: %v), %d POST /api/tasks per level from %d writer(s), %d-byte descriptions\n",
		tgt.URL, *path, *compress, *requests, *conc, *payload)
	fmt.Printf("machine: %s\n", machine())

	wsURL := "ws" + strings.TrimPrefix(tgt.URL, "http") + *path
	var conns []*websocket.Conn
	var received atomic.Int64
	var readers sync.WaitGroup
	defer func() {
		for _, c := range conns {
			_ = c.CloseNow()
		}
		readers.Wait()
	}()
	desc := prose(*payload)
	var results []postlatLevel
	for _, level := range want {
		for len(conns) < level {
			opts := &websocket.DialOptions{}
			if *compress {
				opts.CompressionMode = websocket.CompressionContextTakeover
			}
			dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
			c, _, err := websocket.Dial(dctx, wsURL, opts)
			dcancel()
			if err != nil {
				return fmt.Errorf("socket %d: %w", len(conns)+1, err)
			}
			c.SetReadLimit(-1)
			conns = append(conns, c)
			readers.Add(1)
			go func() {
				defer readers.Done()
				for {
					// A background context: a cancellable one arms a callback on every read.
					if _, _, err := c.Read(context.Background()); err != nil {
						return
					}
					received.Add(1)
				}
			}()
		}
		// Warm-up, not measured: the first events through fresh sockets pay one-time costs.
		for i := 0; i < 20; i++ {
			if _, err := postJSON(ctx, httpc, "POST", tgt.URL+"/api/tasks", map[string]any{"projectId": proj.ID, "title": "warm-up"}, nil); err != nil {
				return err
			}
		}
		time.Sleep(300 * time.Millisecond)
		startRecv := received.Load()
		lat := make(durations, 0, *requests)
		var latMu sync.Mutex
		var next atomic.Int64
		var failed atomic.Value
		var ww sync.WaitGroup
		began := time.Now()
		for w := 0; w < *conc; w++ {
			ww.Add(1)
			go func() {
				defer ww.Done()
				for i := next.Add(1); i <= int64(*requests); i = next.Add(1) {
					t0 := time.Now()
					if _, err := postJSON(ctx, httpc, "POST", tgt.URL+"/api/tasks",
						map[string]any{"projectId": proj.ID, "title": "postlat " + strconv.FormatInt(i, 10), "description": desc}, nil); err != nil {
						failed.Store(err)
						return
					}
					d := time.Since(t0)
					latMu.Lock()
					lat = append(lat, d)
					latMu.Unlock()
				}
			}()
		}
		ww.Wait()
		elapsed := time.Since(began)
		if err, _ := failed.Load().(error); err != nil {
			return err
		}
		// Every socket should have every event: wait for them briefly so that the count is meaningful.
		expected := int64(*requests) * int64(level)
		for end := time.Now().Add(10 * time.Second); received.Load()-startRecv < expected && time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond)
		}
		s := lat.sorted()
		r := postlatLevel{Sockets: level, Requests: *requests, PerSec: float64(*requests) / elapsed.Seconds(), P50ms: msf(s.pct(50)), P90ms: msf(s.pct(90)), P99ms: msf(s.pct(99)),
			MaxMs: msf(s[len(s)-1]), Delivered: received.Load() - startRecv, Expected: expected}
		results = append(results, r)
		fmt.Printf("sockets %5d: %.0f writes/s; POST round trip p50 %s, p90 %s, p99 %s, max %s; events delivered %d of %d\n",
			level, r.PerSec, ms(s.pct(50)), ms(s.pct(90)), ms(s.pct(99)), ms(s[len(s)-1]), r.Delivered, r.Expected)
	}
	fmt.Printf("load at end: %s\n", loadavg())
	if *asJSON {
		b, _ := json.Marshal(results)
		fmt.Println(string(b))
	}
	return nil
}
