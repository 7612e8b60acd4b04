package maestro

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	t.Parallel()
	now := time.UnixMilli(1795626223686)
	re := regexp.MustCompile(`^task_1795626223686_[0-9a-z]{9}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewID(PrefixTask, now)
		if !re.MatchString(id) {
			t.Fatalf("id %q has not the predecessor's format", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q within one millisecond", id)
		}
		seen[id] = true
	}
}

func TestNextStamp(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ now, prev, want int64 }{{10, 5, 10}, {10, 10, 11}, {10, 20, 21}} {
		if got := NextStamp(c.now, c.prev); got != c.want {
			t.Errorf("NextStamp(%d, %d) = %d, want %d", c.now, c.prev, got, c.want)
		}
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	if err := CheckChars("title", strings.Repeat("é", MaxTitleChars), MaxTitleChars); err != nil {
		t.Errorf("512 multi-byte characters refused: %v", err)
	}
	err := CheckChars("title", strings.Repeat("x", MaxTitleChars+1), MaxTitleChars)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeValidation || e.Details["field"] != "title" {
		t.Errorf("too long title: %v", err)
	}
	if CheckBytes("description", strings.Repeat("x", MaxTextBytes+1), MaxTextBytes) == nil {
		t.Error("oversized description accepted")
	}
	long := make([]string, MaxListItems+1)
	if CheckList("skillIds", long, MaxIDChars) == nil {
		t.Error("oversized list accepted")
	}
	if CheckList("skillIds", []string{strings.Repeat("x", MaxIDChars+1)}, MaxIDChars) == nil {
		t.Error("oversized list item accepted")
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	nf := NotFound("Task", "t1")
	if nf.Message != "Task with id 't1' not found" || ErrorCode(nf) != CodeNotFound {
		t.Errorf("NotFound = %+v", nf)
	}
	wrapped := fmt.Errorf("context: %w", nf)
	if ErrorCode(wrapped) != CodeNotFound || AsError(wrapped) != nf {
		t.Error("wrapped domain errors lose their code")
	}
	cause := errors.New("disk on fire")
	in := AsError(cause)
	if in.Code != CodeInternal || in.Message != "internal error" || !errors.Is(in, cause) {
		t.Errorf("AsError(plain) = %+v", in)
	}
	if ErrorCode(nil) != "" {
		t.Error("ErrorCode(nil) must be empty")
	}
}

func TestQueueStats(t *testing.T) {
	t.Parallel()
	q := Queue{Items: []QueueItem{{Status: QueueQueued}, {Status: QueueQueued}, {Status: QueueProcessing}, {Status: QueueFailed}, {Status: QueueSkipped}, {Status: QueueCompleted}}}
	want := QueueStats{Total: 6, Queued: 2, Processing: 1, Completed: 1, Failed: 1, Skipped: 1}
	if got := q.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestEventCatalogIsComplete(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, e := range EventCatalog {
		if seen[e.Type] {
			t.Errorf("%s listed twice", e.Type)
		}
		seen[e.Type] = true
		if e.Payload == nil || e.EmittedBy == "" {
			t.Errorf("%s lacks a payload type or emitter", e.Type)
		}
	}
	// The 14 events of SPEC §3 must all be there.
	for _, typ := range []string{EventProjectCreated, EventProjectUpdated, EventProjectDeleted, EventTaskCreated,
		EventTaskUpdated, EventTaskDeleted, EventTaskSessionAdded, EventTaskSessionRemoved, EventSessionCreated,
		EventSessionSpawn, EventSessionUpdated, EventSessionDeleted, EventSessionTaskAdded, EventSessionTaskRemoved} {
		if !seen[typ] {
			t.Errorf("catalogue lacks %s", typ)
		}
	}
}
