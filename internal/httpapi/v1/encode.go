package v1

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// jsonFormat is huma's JSON format with hand-written encoders for the hot bodies: a task, a list of
// tasks, and /health. They write exactly the bytes huma's default (encoding/json, HTML escaping off,
// a trailing newline) writes — TestEncoders_MatchEncodingJSON holds them to it — without reflection:
// in the CPU profile of GET /health and of the task reads that miss the representation cache,
// encoding/json's reflective struct walk was 5–8% of the request. Every other body goes to huma's
// default.
var jsonFormat = huma.Format{
	Marshal: func(w io.Writer, v any) error {
		var b []byte
		switch x := v.(type) {
		case maestro.Task:
			b = appendTask(getBuf(), &x)
		case *maestro.Task:
			b = appendTask(getBuf(), x)
		case []maestro.Task:
			b = appendTasks(getBuf(), x)
		case Health:
			b = appendHealth(getBuf(), &x)
		default:
			return huma.DefaultJSONFormat.Marshal(w, v)
		}
		b = append(b, '\n')
		_, err := w.Write(b)
		putBuf(b)
		return err
	},
	Unmarshal: huma.DefaultJSONFormat.Unmarshal,
}

var bufs = sync.Pool{New: func() any { return new([]byte) }}

func getBuf() []byte { return (*bufs.Get().(*[]byte))[:0] }

func putBuf(b []byte) {
	if cap(b) > 1<<20 { // a list of thousands of tasks: let it go rather than pin it
		return
	}
	bufs.Put(&b)
}

func appendTasks(b []byte, ts []maestro.Task) []byte {
	if ts == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range ts {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendTask(b, &ts[i])
	}
	return append(b, ']')
}

// appendTask follows maestro.Task's field order and tags.
func appendTask(b []byte, t *maestro.Task) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, t.ID)
	b = append(b, `,"projectId":`...)
	b = appendString(b, t.ProjectID)
	b = append(b, `,"parentId":`...)
	b = appendStringPtr(b, t.ParentID)
	b = append(b, `,"title":`...)
	b = appendString(b, t.Title)
	b = append(b, `,"description":`...)
	b = appendString(b, t.Description)
	b = append(b, `,"status":`...)
	b = appendString(b, t.Status)
	if t.SessionStatus != nil { // omitempty: a nil pointer is left out
		b = append(b, `,"sessionStatus":`...)
		b = appendString(b, *t.SessionStatus)
	}
	b = append(b, `,"priority":`...)
	b = appendString(b, t.Priority)
	b = append(b, `,"createdAt":`...)
	b = strconv.AppendInt(b, t.CreatedAt, 10)
	b = append(b, `,"updatedAt":`...)
	b = strconv.AppendInt(b, t.UpdatedAt, 10)
	b = append(b, `,"startedAt":`...)
	b = appendIntPtr(b, t.StartedAt)
	b = append(b, `,"completedAt":`...)
	b = appendIntPtr(b, t.CompletedAt)
	b = append(b, `,"initialPrompt":`...)
	b = appendString(b, t.InitialPrompt)
	b = append(b, `,"sessionIds":`...)
	b = appendStrings(b, t.SessionIDs)
	b = append(b, `,"skillIds":`...)
	b = appendStrings(b, t.SkillIDs)
	b = append(b, `,"agentIds":`...)
	b = appendStrings(b, t.AgentIDs)
	b = append(b, `,"dependencies":`...)
	b = appendStrings(b, t.Dependencies)
	return append(b, '}')
}

// appendHealth follows Health's field order; encoding/json writes map keys sorted.
func appendHealth(b []byte, h *Health) []byte {
	b = append(b, `{"status":`...)
	b = appendString(b, h.Status)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, h.Timestamp, 10)
	b = append(b, `,"uptime":`...)
	b = appendFloat(b, h.Uptime)
	b = append(b, `,"components":`...)
	if h.Components == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		for i, name := range sortedKeys(h.Components) {
			if i > 0 {
				b = append(b, ',')
			}
			c := h.Components[name]
			b = appendString(b, name)
			b = append(b, `:{"status":`...)
			b = appendString(b, c.Status)
			if c.Reason != "" {
				b = append(b, `,"reason":`...)
				b = appendString(b, c.Reason)
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func sortedKeys(m map[string]ComponentHealth) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// A handful of components: insertion sort, no sort.Strings allocation.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func appendStringPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendString(b, *s)
}

func appendIntPtr(b []byte, n *int64) []byte {
	if n == nil {
		return append(b, "null"...)
	}
	return strconv.AppendInt(b, *n, 10)
}

// appendString writes s as a JSON string. Printable ASCII other than `"` and `\` is written as is;
// anything else (control characters, non-ASCII, which encoding/json may escape or replace) goes
// through encoding/json itself, so the bytes are always the same as its own.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return appendStringSlow(b, s)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

func appendStringSlow(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// appendFloat writes f as encoding/json does: the shortest representation, in exponent form only
// below 1e-6 or from 1e21, with a two-digit exponent at least.
func appendFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(b, "null"...) // encoding/json fails here; /health never produces one
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
