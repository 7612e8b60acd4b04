package main

// End-to-end tests of the hardening of issue 9, against the real binary: a hostile page in the user's
// browser (cross-origin writes, bodies that are not JSON, DNS rebinding) and slow clients.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawRequest sends a request exactly as given (no Content-Type unless in headers; "Host" sets the Host
// header) and returns the status and body.
func rawRequest(t *testing.T, s *e2eServer, method, path, body string, headers ...string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i] == "Host" {
			req.Host = headers[i+1]
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// TestE2E_HostilePage replays the attack of issue 9 — a page the user visits posts a spawn with
// fetch(..., {mode: "no-cors", body: new Blob([json])}) — and its variants: each is refused, nothing is
// created, no manifest is written; the UI's own origin and the CLI keep working.
func TestE2E_HostilePage(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var p struct{ ID string }
	s.JSON("POST", "/api/projects", map[string]any{"name": "victim", "workingDir": "/tmp/victim"}, 201, &p)
	var task struct{ ID string }
	s.JSON("POST", "/api/tasks", map[string]any{"projectId": p.ID, "title": "t"}, 201, &task)
	spawn := fmt.Sprintf(`{"projectId":%q,"taskIds":[%q],"spawnSource":"ui","role":"worker"}`, p.ID, task.ID)

	for _, c := range []struct {
		name    string
		path    string
		headers []string
		status  int
		code    string
	}{
		// What a browser sends for the no-cors fetch of a Blob from https://evil.example.
		{"no-cors Blob from a foreign page", "/api/sessions/spawn", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "no-cors"}, 403, "FORBIDDEN"},
		{"text/plain from a foreign page", "/api/sessions/spawn", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain"}, 403, "FORBIDDEN"},
		{"foreign page on v2", "/api/v2/sessions/spawn", []string{"Origin", "http://evil.example", "Content-Type", "application/json"}, 403, "FORBIDDEN"},
		// Without an Origin (a non-browser client, or a browser that sent none) the body must still be JSON.
		{"no Content-Type", "/api/sessions/spawn", nil, 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"form", "/api/v2/sessions/spawn", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "UNSUPPORTED_MEDIA_TYPE"},
	} {
		status, body := rawRequest(t, s, "POST", c.path, spawn, c.headers...)
		if status != c.status || body["code"] != c.code {
			t.Errorf("%s: %d %v, want %d %s", c.name, status, body, c.status, c.code)
		}
	}
	var sessions []any
	s.JSON("GET", "/api/sessions", nil, 200, &sessions)
	if len(sessions) != 0 {
		t.Fatalf("refused spawns created %d sessions", len(sessions))
	}
	if entries, _ := os.ReadDir(s.SessionDir); len(entries) != 0 {
		t.Fatalf("refused spawns wrote %d manifests", len(entries))
	}

	// The desktop UI (tauri://localhost, or the dev server on a localhost port) and the CLI still work.
	for _, origin := range []string{"tauri://localhost", "http://localhost:1420"} {
		if status, body := rawRequest(t, s, "POST", "/api/projects", `{"name":"ui","workingDir":"/tmp/ui"}`,
			"Origin", origin, "Sec-Fetch-Site", "cross-site", "Content-Type", "application/json"); status != 201 {
			t.Errorf("UI origin %s: %d %v", origin, status, body)
		}
	}
	var spawned map[string]any
	s.JSON("POST", "/api/sessions/spawn", json.RawMessage(spawn), 201, &spawned)
	// Requests without a body need no Content-Type (D8).
	sid, _ := spawned["sessionId"].(string)
	if status, body := rawRequest(t, s, "DELETE", "/api/sessions/"+sid, ""); status != 200 {
		t.Errorf("DELETE without Content-Type: %d %v", status, body)
	}
}

// TestE2E_DNSRebinding: a request whose Host is not a name of this server (a rebinding page's own name)
// is refused, WebSocket upgrades too; loopback names on any port are served, and ALLOWED_HOSTS adds names.
func TestE2E_DNSRebinding(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	for _, host := range []string{"evil.example", "evil.example:" + strings.Split(s.Addr, ":")[1], "localhost.evil.example"} {
		status, body := rawRequest(t, s, "GET", "/api/projects", "", "Host", host)
		if status != 403 || !strings.Contains(fmt.Sprint(body["message"]), "ALLOWED_HOSTS") {
			t.Errorf("Host %s: %d %v", host, status, body)
		}
	}
	if status, body := rawRequest(t, s, "GET", "/api/v2/projects", "", "Host", "evil.example"); status != 403 || body["code"] != "FORBIDDEN" || body["detail"] == nil {
		t.Errorf("v2 with a foreign Host: %d %v", status, body)
	}
	// A WebSocket upgrade to the foreign name is refused before the handshake.
	status, _ := rawRequest(t, s, "GET", "/", "", "Host", "evil.example", "Upgrade", "websocket", "Connection", "Upgrade",
		"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	if status != 403 {
		t.Errorf("WebSocket upgrade with a foreign Host: %d", status)
	}
	for _, host := range []string{"localhost:3000", "127.0.0.1", "[::1]:9"} {
		if status, body := rawRequest(t, s, "GET", "/api/projects", "", "Host", host); status != 200 {
			t.Errorf("Host %s: %d %v", host, status, body)
		}
	}

	named := startServer(t, "ALLOWED_HOSTS=maestro.lan,box.local")
	if status, body := rawRequest(t, named, "GET", "/api/projects", "", "Host", "maestro.lan:3000"); status != 200 {
		t.Errorf("ALLOWED_HOSTS name: %d %v", status, body)
	}
	if status, _ := rawRequest(t, named, "GET", "/api/projects", "", "Host", "evil.example"); status != 403 {
		t.Errorf("a name not in ALLOWED_HOSTS: %d", status)
	}
}

// TestE2E_SlowBodies measures the finding of issue 9 item 4 against the real binary with its default
// MAX_IN_FLIGHT (512): 520 connections trickle their bodies in at one byte every 2 s while /health is
// probed every 10 ms and ordinary reads and writes go on. Every probe must be 200 with a p99 under
// 100 ms, and every read and write must succeed. (Before: 195 of 198 probes and all other requests got
// 503.) It runs about three seconds.
func TestE2E_SlowBodies(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	const slow = 520
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	conns := make([]net.Conn, 0, slow)
	for range slow {
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /api/projects HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", s.Addr)
		conns = append(conns, c)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				for _, c := range conns {
					_, _ = c.Write([]byte(" "))
				}
			}
		}
	}()
	time.Sleep(200 * time.Millisecond) // every slow request is past its headers and reading its body

	client := &http.Client{Timeout: 5 * time.Second}
	var mu sync.Mutex
	var latencies []time.Duration
	var failures []string
	badProbes := 0
	fail := func(f string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(f, args...))
		mu.Unlock()
	}
	end := time.Now().Add(2500 * time.Millisecond)
	var work sync.WaitGroup
	work.Add(2)
	go func() { // the supervisor's probe
		defer work.Done()
		for time.Now().Before(end) {
			start := time.Now()
			resp, err := client.Get(s.URL + "/health")
			if err != nil {
				fail("/health: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			mu.Lock()
			latencies = append(latencies, time.Since(start))
			mu.Unlock()
			if resp.StatusCode != 200 {
				fail("/health: %d", resp.StatusCode)
				mu.Lock()
				badProbes++
				mu.Unlock()
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	writes := 0
	go func() { // the CLI and the UI going on with their work
		defer work.Done()
		for i := 0; time.Now().Before(end); i++ {
			resp, err := client.Post(s.URL+"/api/projects", "application/json",
				strings.NewReader(fmt.Sprintf(`{"name":"w%d","workingDir":"/w"}`, i)))
			if err != nil {
				fail("POST: %v", err)
				return
			}
			_ = resp.Body.Close()
			if resp.StatusCode != 201 {
				fail("POST: %d", resp.StatusCode)
			}
			resp, err = client.Get(s.URL + "/api/projects")
			if err != nil {
				fail("GET: %v", err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != 200 {
				fail("GET: %d", resp.StatusCode)
			}
			mu.Lock()
			writes++
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	work.Wait()
	mu.Lock()
	defer mu.Unlock()
	for _, f := range failures[:min(len(failures), 10)] {
		t.Error(f)
	}
	if len(latencies) < 50 || writes < 20 {
		t.Fatalf("only %d probes and %d write+read rounds completed", len(latencies), writes)
	}
	slices.Sort(latencies)
	p99 := latencies[(len(latencies)*99)/100]
	p50 := latencies[len(latencies)/2]
	t.Logf("%d slow bodies: %d /health probes (%d not 200), p50 %v, p99 %v, max %v; %d write+read rounds, %d failures",
		slow, len(latencies), badProbes, p50, p99, latencies[len(latencies)-1], writes, len(failures))
	if p99 >= 100*time.Millisecond {
		t.Errorf("/health p99 %v while %d bodies trickle in, want < 100ms", p99, slow)
	}
}

// TestE2E_ShutdownAnswersKeepAliveRequests: while SIGTERM drains the server, keep-alive clients posting
// in a loop get an answer to every request they sent (the last ones with Connection: close), and then
// find the listener closed — never a socket cut after their request went out (issue 9 saw 6–8 POSTs end
// in EOF in 2 of 12 rounds). Four rounds of eight clients.
func TestE2E_ShutdownAnswersKeepAliveRequests(t *testing.T) {
	t.Parallel()
	for round := range 4 {
		s := startServer(t)
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var cut []string
		answered := 0
		for c := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					resp, err := client.Post(s.URL+"/api/projects", "application/json",
						strings.NewReader(fmt.Sprintf(`{"name":"r%d-c%d-%d","workingDir":"/w"}`, round, c, i)))
					if err != nil {
						var op *net.OpError
						if errors.As(err, &op) && op.Op == "dial" {
							return // the listener is closed: the clean end
						}
						mu.Lock()
						cut = append(cut, err.Error())
						mu.Unlock()
						return
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					_ = resp.Body.Close()
					mu.Lock()
					answered++
					mu.Unlock()
				}
			}()
		}
		time.Sleep(150 * time.Millisecond)
		if code := s.Stop(); code != 0 {
			t.Errorf("round %d: exit code %d", round, code)
		}
		wg.Wait()
		client.CloseIdleConnections()
		if len(cut) > 0 {
			t.Errorf("round %d: %d requests cut off without an answer (of %d answered): %v", round, len(cut), answered, cut)
		}
		if answered == 0 {
			t.Errorf("round %d: no request answered before shutdown", round)
		}
	}
}
