package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// httpScenario is one request shape the http mode drives at full speed.
type httpScenario struct {
	name string
	// predecessor is the predecessor's figure on a 2-core machine (DESIGN §10) and factor the target
	// multiple of it, so each result line can say whether the target is met.
	predecessor float64
	factor      float64
	request     func(fx *httpFixture, n int64) (method, path string, body []byte)
}

// httpFixture is the data the scenarios use, created before measuring.
type httpFixture struct {
	projectID      string // a project with -list-size tasks
	taskIDs        []string
	writeProjectID string // where create-task writes, so the listed project keeps its size
}

var httpScenarios = []httpScenario{
	{"health", 3200, 10, func(*httpFixture, int64) (string, string, []byte) { return "GET", "/health", nil }},
	{"get-task", 2900, 10, func(fx *httpFixture, n int64) (string, string, []byte) {
		return "GET", "/api/tasks/" + fx.taskIDs[n%int64(len(fx.taskIDs))], nil
	}},
	{"create-task", 1600, 5, func(fx *httpFixture, n int64) (string, string, []byte) {
		return "POST", "/api/tasks", []byte(fmt.Sprintf(`{"projectId":%q,"title":"bench task %d","description":"created by maestro-bench","priority":"high"}`, fx.writeProjectID, n))
	}},
	{"list-1000", 219, 5, func(fx *httpFixture, _ int64) (string, string, []byte) {
		return "GET", "/api/tasks?projectId=" + fx.projectID, nil
	}},
}

// runHTTP measures REST throughput and latency for the shapes DESIGN §10 sets targets for: health,
// GET task by id, POST task, and the list of a 1,000-task project. Each runs for -duration with
// -concurrency keep-alive connections on loopback, one after the other.
func runHTTP(args []string) error {
	fs := flag.NewFlagSet("http", flag.ContinueOnError)
	var tf targetFlags
	tf.register(fs)
	duration := fs.Duration("duration", 5*time.Second, "how long each scenario runs")
	conc := fs.Int("concurrency", 32, "concurrent connections (each sends its next request when the last reply arrived)")
	listSize := fs.Int("list-size", 1000, "tasks in the listed project")
	only := fs.String("scenarios", "", "comma-separated subset of: health,get-task,create-task,list-1000")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *conc < 1 || *duration <= 0 || *listSize < 1 {
		return errors.New("-concurrency, -duration and -list-size must be positive")
	}
	tgt, err := tf.start()
	if err != nil {
		return err
	}
	defer tgt.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc, MaxConnsPerHost: *conc}, Timeout: 30 * time.Second}
	ctx := context.Background()

	fmt.Printf("maestro-bench http: %s, %d connections, %s per scenario\n", tgt.URL, *conc, *duration)
	fmt.Printf("machine: %s\n", machine())
	fx, err := seedHTTP(ctx, client, tgt.URL, *listSize)
	if err != nil {
		return err
	}
	for _, sc := range httpScenarios {
		if *only != "" && !strings.Contains(","+*only+",", ","+sc.name+",") {
			continue
		}
		res := driveHTTP(client, tgt.URL, sc, fx, *conc, *duration)
		target := sc.predecessor * sc.factor
		verdict := "MET"
		if res.rps < target {
			verdict = "not met"
		}
		fmt.Printf("%-12s %9.0f req/s  p50 %s  p99 %s  errors %d  (predecessor %.0f req/s; target ≥%.0f× = %.0f: %s)\n",
			sc.name, res.rps, ms(res.lat.pct(50)), ms(res.lat.pct(99)), res.errors, sc.predecessor, sc.factor, target, verdict)
		if res.firstErr != nil {
			fmt.Printf("             first error: %v\n", res.firstErr)
		}
	}
	if tgt.owned {
		fmt.Printf("server RSS after the run: %s\n", tgt.rss())
	}
	return nil
}

// seedHTTP creates the projects and tasks the scenarios read: one project with n tasks (the list), and
// a second project that create-task writes into, so the list stays at n tasks.
func seedHTTP(ctx context.Context, c *http.Client, base string, n int) (*httpFixture, error) {
	var p struct{ ID string }
	if _, err := postJSON(ctx, c, "POST", base+"/api/projects", map[string]any{"name": "bench list", "workingDir": "/tmp"}, &p); err != nil {
		return nil, err
	}
	var w struct{ ID string }
	if _, err := postJSON(ctx, c, "POST", base+"/api/projects", map[string]any{"name": "bench writes", "workingDir": "/tmp"}, &w); err != nil {
		return nil, err
	}
	fx := &httpFixture{projectID: p.ID, writeProjectID: w.ID}
	start := time.Now()
	var mu sync.Mutex
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	per := (n + 7) / 8
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g * per; i < min(n, (g+1)*per); i++ {
				var t struct{ ID string }
				body := map[string]any{"projectId": p.ID, "title": fmt.Sprintf("listed task %d", i), "description": "a task in the listed project"}
				if _, err := postJSON(ctx, c, "POST", base+"/api/tasks", body, &t); err != nil {
					errc <- err
					return
				}
				mu.Lock()
				fx.taskIDs = append(fx.taskIDs, t.ID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	fmt.Printf("seeded %d tasks in %s\n", n, time.Since(start).Round(time.Millisecond))
	return fx, nil
}

type httpResult struct {
	rps      float64
	lat      durations
	errors   int64
	firstErr error
}

// driveHTTP runs one scenario: conc closed-loop workers for d, each request's latency recorded.
func driveHTTP(c *http.Client, base string, sc httpScenario, fx *httpFixture, conc int, d time.Duration) httpResult {
	var n, errs atomic.Int64
	var firstErr atomic.Pointer[error]
	lats := make([]durations, conc)
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				i := n.Add(1)
				method, path, body := sc.request(fx, i)
				t0 := time.Now()
				err := doOnce(c, method, base+path, body)
				lats[w] = append(lats[w], time.Since(t0))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, &err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all durations
	for _, l := range lats {
		all = append(all, l...)
	}
	res := httpResult{rps: float64(len(all)) / elapsed.Seconds(), lat: all.sorted(), errors: errs.Load()}
	if p := firstErr.Load(); p != nil {
		res.firstErr = *p
	}
	return res
}

// doOnce sends one request like the CLI does and drains the reply so the connection is reused.
func doOnce(c *http.Client, method, u string, body []byte) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: status %d", method, u, resp.StatusCode)
	}
	return nil
}
