package ws_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"
)

type eventPage struct {
	Items []struct {
		Seq       int64           `json:"seq"`
		Type      string          `json:"type"`
		Data      json.RawMessage `json:"data"`
		Timestamp int64           `json:"timestamp"`
		RequestID *string         `json:"requestId"`
	} `json:"items"`
	NextCursor *string `json:"nextCursor"`
	Resync     bool    `json:"resync"`
}

func (e *env) eventPage(query string, status int) eventPage {
	e.t.Helper()
	resp, raw := e.do("GET", "/api/v2/events"+query, nil)
	if resp.StatusCode != status {
		e.t.Fatalf("GET /api/v2/events%s: %d, want %d: %s", query, resp.StatusCode, status, raw)
	}
	var p eventPage
	if status == 200 {
		if err := json.Unmarshal(raw, &p); err != nil {
			e.t.Fatalf("%s: %v", raw, err)
		}
	}
	return p
}

// TestEventLog_HTTP: GET /api/v2/events pages through the same events the stream sends.
func TestEventLog_HTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	stream := e.dial("/api/v2/events/stream", nil)
	p := e.must("POST", "/api/projects", map[string]any{"name": "P", "workingDir": "/p"}, 201)
	for i := 0; i < 4; i++ {
		e.must("POST", "/api/tasks", map[string]any{"projectId": p["id"], "title": fmt.Sprint("t", i)}, 201)
	}
	streamed := stream.ping()

	// Page through everything, 2 at a time.
	var got []int64
	q := "?limit=2"
	for pages := 0; ; pages++ {
		page := e.eventPage(q, 200)
		for _, it := range page.Items {
			got = append(got, it.Seq)
			m := streamed[len(got)-1]
			if it.Seq != m.Seq || it.Type != m.Type || string(it.Data) != string(m.Data) || it.Timestamp != m.Timestamp ||
				it.RequestID == nil || *it.RequestID != m.RequestID {
				t.Fatalf("item %+v differs from the streamed %+v", it, m)
			}
		}
		if page.NextCursor == nil {
			if pages != 2 || len(page.Items) != 1 {
				t.Fatalf("last page %d has %d items", pages, len(page.Items))
			}
			break
		}
		q = "?limit=2&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	if len(got) != 5 {
		t.Fatalf("paged %v, want the 5 events", got)
	}

	// since, and a caught-up reader.
	if page := e.eventPage(fmt.Sprintf("?since=%d", got[2]), 200); len(page.Items) != 2 || page.Items[0].Seq != got[3] || page.NextCursor != nil {
		t.Fatalf("since: %+v", page)
	}
	if page := e.eventPage(fmt.Sprintf("?since=%d", got[4]), 200); len(page.Items) != 0 || page.Items == nil || page.Resync {
		t.Fatalf("caught up: %+v", page)
	}
	// Default limit is 50: all five.
	if page := e.eventPage("", 200); len(page.Items) != 5 {
		t.Fatalf("default page: %d items", len(page.Items))
	}

	// Invalid input: 422 problem+json.
	for _, q := range []string{"?limit=0", "?limit=501", "?since=-1", "?cursor=bogus", "?since=1&cursor=ZXYxOjE", "?since=x"} {
		e.eventPage(q, 422)
	}
	// A bare unversioned path also serves v2 with API-Version: 2.
	resp, raw := e.do("GET", "/api/events?limit=1", nil, "API-Version", "2")
	if resp.StatusCode != 200 {
		t.Fatalf("API-Version 2 on /api/events: %d %s", resp.StatusCode, raw)
	}
}

func TestEventLog_HTTPResync(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *envConfig) { c.hub.KeepMin = 3; c.hub.Retention = time.Millisecond })
	e.emit("task:created", 10)
	time.Sleep(5 * time.Millisecond)
	if _, err := e.hub.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	last := e.hub.LastSeq()
	page := e.eventPage("?since=1", 200)
	if !page.Resync || len(page.Items) != 0 || page.NextCursor == nil {
		t.Fatalf("pruned range: %+v", page)
	}
	// The cursor continues from the newest event.
	e.emit("task:updated", 1)
	next := e.eventPage("?cursor="+url.QueryEscape(*page.NextCursor), 200)
	if next.Resync || len(next.Items) != 1 || next.Items[0].Seq != last+1 {
		t.Fatalf("after resync: %+v", next)
	}
}
