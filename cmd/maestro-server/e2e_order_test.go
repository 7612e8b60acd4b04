package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests check DESIGN §12 "events before the HTTP reply" the way a client sees it: after it has
// read a reply, the events of that request are already in its socket. To tell "already there" from
// "arrives a moment later" without any timing window, the sockets under test are read with single
// non-blocking reads of the file descriptor (what the kernel holds right now), not by a goroutine that
// might simply not have been scheduled yet.

// rawSocket is a minimal WebSocket client over a plain TCP connection: it sends the upgrade, then parses
// the server's (unmasked) frames itself. Compressed messages are counted, not inflated.
type rawSocket struct {
	t   testing.TB
	c   *net.TCPConn
	rc  syscall.RawConn
	buf []byte // bytes read and not parsed yet
	msg []byte // payload of a fragmented message so far
	rsv bool   // the current message is compressed

	msgs []rawMessage // every data message received, in order
}

// rawMessage is one data message; Data is nil for a compressed one.
type rawMessage struct {
	Compressed bool
	Data       []byte
}

// dialRaw opens a WebSocket on path; deflate offers permessage-deflate.
func dialRaw(t testing.TB, addr, path string, deflate bool) *rawSocket {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := nc.(*net.TCPConn)
	t.Cleanup(func() { _ = c.Close() })
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	ext := ""
	if deflate {
		ext = "Sec-WebSocket-Extensions: permessage-deflate\r\n"
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n", path, addr, base64.StdEncoding.EncodeToString(key), ext)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("upgrade %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade %s: status %d", path, resp.StatusCode)
	}
	if deflate && !strings.HasPrefix(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate") {
		t.Fatalf("upgrade %s: permessage-deflate not negotiated", path)
	}
	_ = c.SetReadDeadline(time.Time{})
	s := &rawSocket{t: t, c: c}
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		s.buf = append(s.buf, b...)
	}
	if s.rc, err = c.SyscallConn(); err != nil {
		t.Fatal(err)
	}
	return s
}

// readNow takes in whatever the kernel holds for this socket at this moment, without waiting, and
// returns how many data messages have been received in all.
func (s *rawSocket) readNow() int {
	s.t.Helper()
	tmp := make([]byte, 256<<10)
	for {
		var n int
		var rerr error
		if err := s.rc.Read(func(fd uintptr) bool {
			n, rerr = syscall.Read(int(fd), tmp)
			return true // one attempt: never wait for more
		}); err != nil {
			s.t.Fatal(err)
		}
		if rerr != nil || n <= 0 {
			if rerr != nil && !errors.Is(rerr, syscall.EAGAIN) && !errors.Is(rerr, syscall.EINTR) {
				s.t.Fatalf("read: %v", rerr)
			}
			break
		}
		s.buf = append(s.buf, tmp[:n]...)
	}
	s.parse()
	return len(s.msgs)
}

// waitFor reads (blocking) until n data messages have been received in all, or the timeout.
func (s *rawSocket) waitFor(n int, timeout time.Duration) int {
	s.t.Helper()
	tmp := make([]byte, 256<<10)
	_ = s.c.SetReadDeadline(time.Now().Add(timeout))
	defer func() { _ = s.c.SetReadDeadline(time.Time{}) }()
	for s.parse(); len(s.msgs) < n; s.parse() {
		k, err := s.c.Read(tmp)
		s.buf = append(s.buf, tmp[:k]...)
		if err != nil {
			s.parse()
			break
		}
	}
	return len(s.msgs)
}

// parse consumes every complete frame in buf. Control frames (the server's heartbeat pings) are skipped.
func (s *rawSocket) parse() {
	for {
		b := s.buf
		if len(b) < 2 {
			return
		}
		fin, rsv1, op := b[0]&0x80 != 0, b[0]&0x40 != 0, b[0]&0x0f
		if b[1]&0x80 != 0 {
			s.t.Fatal("server sent a masked frame")
		}
		n, hdr := uint64(b[1]&0x7f), 2
		switch n {
		case 126:
			if len(b) < 4 {
				return
			}
			n, hdr = uint64(binary.BigEndian.Uint16(b[2:4])), 4
		case 127:
			if len(b) < 10 {
				return
			}
			n, hdr = binary.BigEndian.Uint64(b[2:10]), 10
		}
		if uint64(len(b)-hdr) < n {
			return
		}
		payload := b[hdr : hdr+int(n)]
		s.buf = b[hdr+int(n):]
		switch op {
		case 0x1, 0x2:
			s.msg, s.rsv = append(s.msg[:0], payload...), rsv1
		case 0x0:
			s.msg = append(s.msg, payload...)
		case 0x8:
			s.t.Fatalf("server closed the socket: % x", payload)
		default:
			continue // ping, pong
		}
		if fin {
			m := rawMessage{Compressed: s.rsv}
			if !s.rsv {
				m.Data = bytes.Clone(s.msg)
			}
			s.msgs = append(s.msgs, m)
			s.msg = s.msg[:0]
		}
	}
}

// orderClient sends the test's HTTP requests; each carries its own request ID, which the v2 stream
// repeats in the events the request caused.
type orderClient struct {
	t    testing.TB
	base string
	hc   *http.Client
}

func (c *orderClient) do(method, path, reqID string, body any, want int, out any) {
	c.t.Helper()
	raw, _ := json.Marshal(body)
	req, err := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", reqID)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	data, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// connectIdle connects n sockets that read and discard everything (half of them legacy sockets with
// permessage-deflate, half v2 streams, one in two of those filtered): load on the fan-out, not under
// test themselves. They discard the
// raw bytes unparsed, so that they cost the test process (race detector included) next to nothing.
func connectIdle(t *testing.T, addr string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	conns := make([]net.Conn, 0, n)
	for i := 0; i < n; i++ {
		path, deflate := "/", true
		switch i % 4 {
		case 1:
			path, deflate = "/api/v2/events/stream", false
		case 3:
			// Filtered: most events never reach it, and must not hold any reply either.
			path, deflate = "/api/v2/events/stream?types=project:created", false
		}
		s := dialRaw(t, addr, path, deflate)
		conns = append(conns, s.c)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = io.Copy(io.Discard, s.c) // until the connection is closed
		}()
	}
	// Cleanups run last-registered first: this one, closing the connections and waiting for their
	// readers, before the server stops.
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.Close()
		}
		wg.Wait()
	})
}

// TestE2E_EventsBeforeReply makes 300 sequential writes of mixed kinds against the real binary, with a
// legacy socket on / (permessage-deflate; some events are large enough to be compressed) and a v2
// stream socket, and checks after each reply that every event of that request is already in both
// sockets: none late. Once alone, once beside 200 idle sockets.
func TestE2E_EventsBeforeReply(t *testing.T) {
	t.Parallel()
	for _, idle := range []int{0, 200} {
		t.Run("idle="+strconv.Itoa(idle), func(t *testing.T) {
			// The bound is raised from 100 ms to 1 s: this test is about the order, on a shared machine
			// whose load can delay a socket writer's scheduling beyond 100 ms now and then; the bound
			// itself is TestE2E_StalledSocketDoesNotHoldReplies's subject.
			s := startServer(t, "EVENT_FLUSH_TIMEOUT=1s")
			connectIdle(t, s.Addr, idle)
			legacy := dialRaw(t, s.Addr, "/", true)
			stream := dialRaw(t, s.Addr, "/api/v2/events/stream", false)
			late, total := eventsBeforeReply(t, s, legacy, stream, 300)
			t.Logf("idle sockets %d: %d of %d replies arrived before their events; %v waits hit EVENT_FLUSH_TIMEOUT",
				idle, late, total, metricOf(t, s, "maestro_events_flush_timeouts_total"))
			if late != 0 {
				t.Errorf("%d of %d replies arrived before their events (want 0)", late, total)
			}
		})
	}
}

// eventsBeforeReply runs n writes and returns how many replies were read before all of their events.
func eventsBeforeReply(t *testing.T, s *e2eServer, legacy, stream *rawSocket, n int) (late, total int) {
	c := &orderClient{t: t, base: s.URL, hc: &http.Client{Timeout: 30 * time.Second}}
	type ref struct{ ID string }
	var proj, task, sess ref
	big := strings.Repeat("A long description that makes the event larger than the compression threshold. ", 30)
	steps := []func(id string){
		func(id string) {
			c.do("POST", "/api/projects", id, map[string]any{"name": "P " + id, "workingDir": "/tmp/order"}, 201, &proj)
		},
		func(id string) {
			c.do("POST", "/api/tasks", id, map[string]any{"projectId": proj.ID, "title": "T " + id, "description": big}, 201, &task)
		},
		func(id string) {
			c.do("PATCH", "/api/tasks/"+task.ID, id, map[string]any{"status": "in_progress"}, 200, nil)
		},
		func(id string) {
			c.do("POST", "/api/sessions", id, map[string]any{"projectId": proj.ID, "taskIds": []string{task.ID}, "name": "S " + id}, 201, &sess)
		},
		func(id string) {
			c.do("PATCH", "/api/sessions/"+sess.ID, id, map[string]any{"status": "working"}, 200, nil)
		},
		func(id string) {
			c.do("POST", "/api/sessions/spawn", id, map[string]any{"projectId": proj.ID, "taskIds": []string{task.ID}}, 201, nil)
		},
		func(id string) {
			c.do("PUT", "/api/projects/"+proj.ID, id, map[string]any{"name": "Renamed " + id}, 200, nil)
		},
		func(id string) {
			c.do("DELETE", "/api/tasks/"+task.ID, id, nil, 200, nil)
		},
	}
	// Message counts in each socket right after each reply was read.
	atReplyLegacy := make([]int, n)
	atReplyStream := make([]int, n)
	ids := make([]string, n)
	for i := 0; i < n; i++ {
		ids[i] = fmt.Sprintf("order-%d-%d", os.Getpid(), i)
		steps[i%len(steps)](ids[i])
		atReplyLegacy[i] = legacy.readNow()
		atReplyStream[i] = stream.readNow()
	}
	// Every event of the run, wherever it was when the replies came: the v2 stream names the request
	// of each event, so the position of each request's last event is known afterwards.
	lastOf := map[string]int{} // request ID → number of stream messages up to and including its last event
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		before := len(stream.msgs)
		stream.waitFor(before+1, 300*time.Millisecond)
		if len(stream.msgs) == before {
			break // quiet: everything the run caused has arrived
		}
	}
	for k := range stream.msgs {
		var m struct{ RequestID string }
		if err := json.Unmarshal(stream.msgs[k].Data, &m); err != nil {
			t.Fatalf("stream message %s: %v", stream.msgs[k].Data, err)
		}
		lastOf[m.RequestID] = k + 1
	}
	legacy.waitFor(len(stream.msgs), 5*time.Second)
	if len(legacy.msgs) != len(stream.msgs) {
		t.Fatalf("legacy socket got %d events, stream %d", len(legacy.msgs), len(stream.msgs))
	}
	compressed := 0
	for _, m := range legacy.msgs {
		if m.Compressed {
			compressed++
		}
	}
	if compressed == 0 {
		t.Error("no event reached the legacy socket compressed: the test does not cover compression")
	}
	for i, id := range ids {
		want, ok := lastOf[id]
		if !ok {
			t.Fatalf("request %s (step %d) caused no event", id, i%len(steps))
		}
		if atReplyLegacy[i] < want || atReplyStream[i] < want {
			late++
		}
	}
	return late, n
}

// TestE2E_StalledSocketDoesNotHoldReplies connects a socket that never reads beside a healthy one and
// writes large events until the stalled socket's buffers are full and its writer blocks: each reply
// waits at most EVENT_FLUSH_TIMEOUT for it, and only once — from then on it is behind and not waited
// for — while the healthy socket still has every event before each reply.
func TestE2E_StalledSocketDoesNotHoldReplies(t *testing.T) {
	t.Parallel()
	const bound = 100 * time.Millisecond
	s := startServer(t, "EVENT_FLUSH_TIMEOUT="+bound.String())
	stalled := dialRaw(t, s.Addr, "/", false)
	// A small fixed receive buffer (no autotuning) so that a few large events fill it.
	if err := stalled.c.SetReadBuffer(64 << 10); err != nil {
		t.Fatal(err)
	}
	healthy := dialRaw(t, s.Addr, "/api/v2/events/stream", false)
	// The healthy socket is read between requests only: a large receive buffer takes each 250 KB event
	// at once, as a client reading all the time would.
	if err := healthy.c.SetReadBuffer(16 << 20); err != nil {
		t.Fatal(err)
	}
	c := &orderClient{t: t, base: s.URL, hc: &http.Client{Timeout: 30 * time.Second}}
	var proj struct{ ID string }
	c.do("POST", "/api/projects", "stall-project", map[string]any{"name": "stall", "workingDir": "/tmp/stall"}, 201, &proj)
	healthy.waitFor(1, 10*time.Second)

	// 40 events of 250 KB: 10 MB, far more than the kernel buffers of the stalled connection hold.
	desc := strings.Repeat("x", 250_000)
	const n = 40
	var slowest time.Duration
	late := 0
	for i := 0; i < n; i++ {
		t0 := time.Now()
		c.do("POST", "/api/tasks", "stall-"+strconv.Itoa(i), map[string]any{"projectId": proj.ID, "title": "big", "description": desc}, 201, nil)
		slowest = max(slowest, time.Since(t0))
		if healthy.readNow() < 2+i {
			late++
		}
	}
	timeouts := metricOf(t, s, "maestro_events_flush_timeouts_total")
	t.Logf("slowest reply %s; %v flush timeouts; healthy socket late %d of %d", slowest, timeouts, late, n)
	if timeouts < 1 {
		t.Fatal("no request ever waited in vain for the stalled socket: the test did not stall it")
	}
	// One wait in vain for the stalled socket, not one per request (which would be most of the n); a
	// few more are tolerated for a machine so loaded that the healthy socket's writer missed the bound.
	if timeouts > n/4 {
		t.Errorf("%v requests waited the full bound: the stalled socket should cost one", timeouts)
	}
	// The bound plus the request itself (250 KB bodies, a loaded machine, the race detector), far below
	// the 10 s a write may block before the stalled socket is dropped.
	if slowest > bound+3*time.Second {
		t.Errorf("slowest reply took %s, bound %s", slowest, bound)
	}
	if late > int(timeouts) {
		t.Errorf("the healthy socket lacked the event at %d of %d replies", late, n)
	}
}

// metricOf reads one unlabelled metric from /metrics.
func metricOf(t *testing.T, s *e2eServer, name string) float64 {
	t.Helper()
	status, body := s.Do("GET", "/metrics", nil)
	if status != http.StatusOK {
		t.Fatalf("/metrics: %d", status)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no %s", name)
	return 0
}
