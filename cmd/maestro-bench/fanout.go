package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// fanoutResult is what the fanout mode measured (printed as text, and as JSON with -json).
type fanoutResult struct {
	Clients        int     `json:"clients"`
	Connected      int     `json:"connected"`
	Compressed     int     `json:"compressedClients"`
	ConnectSeconds float64 `json:"connectSeconds"`
	WritesOK       int64   `json:"writesOk"`
	WritesFailed   int64   `json:"writesFailed"`
	WritesSkipped  int64   `json:"writesSkipped"`
	HTTPp50ms      float64 `json:"httpP50Ms"`
	HTTPp99ms      float64 `json:"httpP99Ms"`
	Expected       int64   `json:"expectedDeliveries"`
	Delivered      int64   `json:"delivered"`
	OutOfOrder     int64   `json:"outOfOrder"`
	Dropped        int     `json:"droppedClients"`
	EventsPerSec   float64 `json:"eventsPerSecond"`
	P50ms          float64 `json:"latencyP50Ms"`
	P90ms          float64 `json:"latencyP90Ms"`
	P99ms          float64 `json:"latencyP99Ms"`
	P999ms         float64 `json:"latencyP999Ms"`
	MaxMs          float64 `json:"latencyMaxMs"`
}

// fanClient is one WebSocket client of the benchmark. Only its reader goroutine touches it until the
// end of the run.
type fanClient struct {
	conn       *websocket.Conn
	compressed bool
	lat        durations
	lastSeq    int64
	outOfOrder int64
	err        error
	done       chan struct{}
}

func runFanout(args []string) error {
	fs := flag.NewFlagSet("fanout", flag.ContinueOnError)
	var tf targetFlags
	tf.register(fs)
	clients := fs.Int("clients", 1000, "WebSocket clients to connect")
	duration := fs.Duration("duration", 10*time.Second, "how long to generate writes")
	rate := fs.Float64("rate", 100, "writes per second; each is a POST /api/tasks whose task:created event goes to every client")
	writers := fs.Int("writers", 8, "concurrent HTTP writers")
	compress := fs.Bool("compress", false, "offer permessage-deflate, as browsers do")
	path := fs.String("path", "/", "WebSocket path: / (legacy socket) or /api/v2/events/stream")
	asJSON := fs.Bool("json", false, "also print the result as one JSON line")
	warmup := fs.Int("warmup", 3, "unmeasured writes before the measurement (each reaches every client)")
	payload := fs.Int("payload", 0, "bytes of description text in each task (events above 1 KiB are compressed when deflate is negotiated)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *clients < 1 || *rate <= 0 || *writers < 1 || *duration <= 0 {
		return errors.New("-clients, -rate, -writers and -duration must be positive")
	}

	tgt, err := tf.start()
	if err != nil {
		return err
	}
	defer func() {
		if err := tgt.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "maestro-bench: stopping the server:", err)
		}
	}()
	// The whole run is bounded: connecting, the write phase and the drain each have a limit.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute+*duration)
	defer cancel()

	startMachine := machine()
	httpc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *writers}}
	var proj struct{ ID string }
	if _, err := postJSON(ctx, httpc, "POST", tgt.URL+"/api/projects", map[string]any{"name": "bench", "workingDir": "/tmp/bench"}, &proj); err != nil {
		return err
	}

	// Connect every client, 64 at a time.
	runID := strconv.FormatUint(rand.Uint64(), 36)
	wsURL := "ws" + strings.TrimPrefix(tgt.URL, "http") + *path
	var delivered, lastRecv atomic.Int64
	res := fanoutResult{Clients: *clients}
	fcs := make([]*fanClient, *clients)
	connStart := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	var connErr atomic.Value
	for i := range fcs {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			opts := &websocket.DialOptions{}
			if *compress {
				opts.CompressionMode = websocket.CompressionContextTakeover
			}
			dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
			defer dcancel()
			c, resp, err := websocket.Dial(dctx, wsURL, opts)
			if err != nil {
				connErr.Store(err)
				return
			}
			c.SetReadLimit(-1)
			fcs[i] = &fanClient{conn: c, done: make(chan struct{}),
				compressed: strings.HasPrefix(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")}
		}(i)
	}
	wg.Wait()
	res.ConnectSeconds = time.Since(connStart).Seconds()
	for _, fc := range fcs {
		if fc == nil {
			continue
		}
		res.Connected++
		if fc.compressed {
			res.Compressed++
		}
		go fc.read(runID, &delivered, &lastRecv)
	}
	if res.Connected == 0 {
		return fmt.Errorf("no client could connect: %v", connErr.Load())
	}
	desc := prose(*payload)
	// Warm-up writes, not measured: the first event through each socket pays one-time costs (buffers,
	// and with permessage-deflate a compressor per socket) that are not the steady state.
	for i := 0; i < *warmup; i++ {
		if _, err := postJSON(ctx, httpc, "POST", tgt.URL+"/api/tasks", map[string]any{"projectId": proj.ID, "title": "warm-up"}, nil); err != nil {
			return err
		}
	}
	time.Sleep(500 * time.Millisecond) // let every socket settle before measuring

	// Write phase: an open loop at the given rate; a tick that finds every writer busy is skipped and
	// counted, so the rate never silently drops.
	var httpLat durations
	var httpMu sync.Mutex
	var ok, failed, skipped atomic.Int64
	jobs := make(chan struct{}, *writers)
	var ww sync.WaitGroup
	for i := 0; i < *writers; i++ {
		ww.Add(1)
		go func() {
			defer ww.Done()
			for range jobs {
				sent := time.Now()
				title := "bench:" + runID + ":" + strconv.FormatInt(sent.UnixNano(), 10)
				_, err := postJSON(ctx, httpc, "POST", tgt.URL+"/api/tasks", map[string]any{"projectId": proj.ID, "title": title, "description": desc}, nil)
				d := time.Since(sent)
				if err != nil {
					failed.Add(1)
					continue
				}
				ok.Add(1)
				httpMu.Lock()
				httpLat = append(httpLat, d)
				httpMu.Unlock()
			}
		}()
	}
	firstSend := time.Now()
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	for end := firstSend.Add(*duration); time.Now().Before(end); {
		<-tick.C
		select {
		case jobs <- struct{}{}:
		default:
			skipped.Add(1)
		}
	}
	tick.Stop()
	close(jobs)
	ww.Wait()

	// Drain: wait until every connected client has every event, or 15 s.
	expected := ok.Load() * int64(res.Connected)
	drainEnd := time.Now().Add(15 * time.Second)
	for delivered.Load() < expected && time.Now().Before(drainEnd) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, fc := range fcs {
		if fc != nil {
			_ = fc.conn.Close(websocket.StatusNormalClosure, "")
		}
	}
	var all durations
	for _, fc := range fcs {
		if fc == nil {
			continue
		}
		<-fc.done
		all = append(all, fc.lat...)
		res.OutOfOrder += fc.outOfOrder
		if fc.err != nil {
			res.Dropped++
		}
	}
	res.WritesOK, res.WritesFailed, res.WritesSkipped = ok.Load(), failed.Load(), skipped.Load()
	res.Expected, res.Delivered = expected, delivered.Load()
	if last := lastRecv.Load(); last > 0 {
		res.EventsPerSec = float64(res.Delivered) / time.Unix(0, last).Sub(firstSend).Seconds()
	}
	hs := httpLat.sorted()
	res.HTTPp50ms, res.HTTPp99ms = msf(hs.pct(50)), msf(hs.pct(99))
	s := all.sorted()
	res.P50ms, res.P90ms, res.P99ms, res.P999ms = msf(s.pct(50)), msf(s.pct(90)), msf(s.pct(99)), msf(s.pct(99.9))
	if len(s) > 0 {
		res.MaxMs = msf(s[len(s)-1])
	}

	comp := "not offered"
	if *compress {
		comp = fmt.Sprintf("offered, negotiated by %d", res.Compressed)
	}
	fmt.Printf("maestro-bench fanout: %d clients on %s (permessage-deflate %s), %s of writes at %.0f/s with %d writers, %d-byte descriptions\n",
		*clients, wsURL, comp, *duration, *rate, *writers, *payload)
	fmt.Printf("machine:    %s (at start); load at end %s\n", startMachine, loadavg())
	if tgt.owned {
		fmt.Printf("server:     %s, started by this run, same machine; RSS at end %s\n", tf.server, tgt.rss())
	}
	fmt.Printf("connect:    %d of %d clients in %.2f s\n", res.Connected, *clients, res.ConnectSeconds)
	fmt.Printf("writes:     %d ok, %d failed, %d skipped (all writers busy); HTTP round trip p50 %s, p99 %s\n",
		res.WritesOK, res.WritesFailed, res.WritesSkipped, ms(hs.pct(50)), ms(hs.pct(99)))
	fmt.Printf("delivered:  %d of %d expected events (%.3f%%), %d out of order, %d clients dropped\n",
		res.Delivered, res.Expected, 100*float64(res.Delivered)/float64(max(res.Expected, 1)), res.OutOfOrder, res.Dropped)
	fmt.Printf("throughput: %.0f events/s delivered to clients\n", res.EventsPerSec)
	fmt.Printf("latency:    from the load generator sending the POST to a client having read the event (%d samples):\n", len(s))
	fmt.Printf("            p50 %s, p90 %s, p99 %s, p99.9 %s, max %s\n", ms(s.pct(50)), ms(s.pct(90)), ms(s.pct(99)), ms(s.pct(99.9)), ms(time.Duration(res.MaxMs*float64(time.Millisecond))))
	if res.Connected >= 1000 {
		verdict := "met"
		if res.P99ms >= 50 || res.Delivered < res.Expected {
			verdict = "NOT met"
		}
		fmt.Printf("target:     p99 < 50 ms with 1,000 clients, every event delivered (DESIGN §10): %s\n", verdict)
	}
	if *asJSON {
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
	}
	if res.Delivered < res.Expected {
		return fmt.Errorf("%d events were not delivered", res.Expected-res.Delivered)
	}
	return nil
}

// read receives events until the connection ends. Latency is measured from the send time written into
// the task title by the writer to the moment this client has read the message and found its type, seq
// and title: it includes the HTTP request, the commit, the fan-out, the socket write and the client's own
// scheduling. The client picks those three fields out of the envelope's fixed layout instead of decoding
// the whole message (the envelopes' JSON is checked by the server's tests), so that the load generator,
// which shares the machine with the server, takes as little CPU from it as it can.
func (fc *fanClient) read(runID string, delivered, lastRecv *atomic.Int64) {
	defer close(fc.done)
	titlePrefix := []byte(`"title":"bench:` + runID + `:`)
	var buf bytes.Buffer // reused: the client should cost the shared CPUs as little as possible
	for {
		// A background context: a cancellable one makes the library arm a callback on every read.
		// Closing the connection ends the loop.
		_, r, err := fc.conn.Reader(context.Background())
		if err == nil {
			buf.Reset()
			_, err = buf.ReadFrom(r)
		}
		raw := buf.Bytes()
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure && !errors.Is(err, net.ErrClosed) {
				fc.err = err
			}
			return
		}
		now := time.Now()
		seq, ok := createdSeq(raw)
		if !ok {
			continue
		}
		i := bytes.Index(raw, titlePrefix)
		if i < 0 {
			continue
		}
		sent, ok := leadingInt(raw[i+len(titlePrefix):])
		if !ok {
			continue
		}
		fc.lat = append(fc.lat, now.Sub(time.Unix(0, sent)))
		if fc.lastSeq != 0 && seq != fc.lastSeq+1 {
			fc.outOfOrder++
		}
		fc.lastSeq = seq
		delivered.Add(1)
		for n := now.UnixNano(); ; {
			last := lastRecv.Load()
			if n <= last || lastRecv.CompareAndSwap(last, n) {
				break
			}
		}
	}
}

// createdSeq returns the seq of a task:created message in either envelope: the legacy one starts with
// its type and ends with its seq, the v2 one starts with its seq and then its type.
func createdSeq(raw []byte) (int64, bool) {
	if bytes.HasPrefix(raw, []byte(`{"type":"task:created"`)) {
		i := bytes.LastIndex(raw, []byte(`"seq":`))
		if i < 0 {
			return 0, false
		}
		return leadingInt(raw[i+len(`"seq":`):])
	}
	rest, ok := bytes.CutPrefix(raw, []byte(`{"seq":`))
	if !ok {
		return 0, false
	}
	seq, ok := leadingInt(rest)
	digits := len(strconv.FormatInt(seq, 10))
	return seq, ok && bytes.HasPrefix(rest[digits:], []byte(`,"type":"task:created"`))
}

// leadingInt parses the decimal digits at the start of b.
func leadingInt(b []byte) (int64, bool) {
	var n int64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	return n, i > 0
}

// prose returns n bytes of text made of common words, about as compressible as a real task description.
func prose(n int) string {
	words := strings.Fields("the task should update session queue agent review code test build deploy fix error " +
		"when then with from into after before each every server client event project timeline manifest skill")
	var b strings.Builder
	r := rand.New(rand.NewPCG(1, 2))
	for b.Len() < n {
		b.WriteString(words[r.IntN(len(words))])
		b.WriteByte(' ')
	}
	return b.String()[:n]
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
