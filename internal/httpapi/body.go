package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/obs"
)

// Request bodies are read here, whole, before a request takes an in-flight slot (the loadShedder runs inside
// this layer): a client trickling its body in holds a connection and a goroutine, never a slot meant for
// work (DESIGN §8). While reading, the body must keep up a minimum rate after a grace period, or the
// request is answered 408 and its connection closed. On the way the body is checked: its size (413), its
// media type (415 unless JSON) and the nesting depth of its free-form JSON fields (400/422).

const (
	// DefaultBodyGrace is how long any body may take before the minimum rate applies.
	DefaultBodyGrace = 5 * time.Second
	// DefaultBodyMinRate is the slowest a body may arrive after the grace period, in bytes a second. A
	// body of 1 MiB (the limit) may therefore take 5 s + 64 s, which the server's ReadTimeout cuts to a
	// minute anyway.
	DefaultBodyMinRate = 16 << 10
	// serverReadTimeout is http.Server.ReadTimeout; a body's deadline never extends past it.
	serverReadTimeout = 60 * time.Second
	// MaxJSONDepth is the deepest a free-form JSON field (metadata, data, context) may nest: SQLite's
	// json_valid refuses beyond 1,000 levels, and nothing a client means to store is nested this deep.
	MaxJSONDepth = 64
	// maxBodyDepth bounds the nesting of a whole body, whatever its fields are called.
	maxBodyDepth = 2 * MaxJSONDepth
)

// freeFormKeys name the fields whose values are arbitrary JSON the server stores as given (session and
// timeline metadata, event data, spawn context, the event and timeline entries a v1 session PATCH
// appends verbatim; the same names inside a v2 import).
// The value is the extra nesting allowed for the field's own container: events and timeline are arrays
// whose entries are the free-form values.
var freeFormKeys = map[string]int{"metadata": 0, "data": 0, "context": 0, "events": 1, "timeline": 1}

// bufferedBody is the body a handler reads once readBody has read it off the connection.
type bufferedBody struct {
	bytes.Reader
	raw []byte // the whole body, for the checks that look at it again (refuseNulls)
}

func (*bufferedBody) Close() error { return nil }

// isJSONMediaType reports whether a Content-Type value is application/json or a structured-syntax
// +json type (application/merge-patch+json, application/problem+json…), parameters ignored. It does
// not allocate.
func isJSONMediaType(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	if strings.EqualFold(ct, "application/json") {
		return true
	}
	const suffix = "+json"
	slash := strings.IndexByte(ct, '/')
	return slash > 0 && len(ct)-slash-1 > len(suffix) && strings.EqualFold(ct[len(ct)-len(suffix):], suffix)
}

// readBody reads the request body into memory under its own deadline (see the top of this file) and
// checks it, then hands the request on with the body in memory. A request without a body (no
// Content-Length or 0, as a DELETE or an empty POST .../queue/start sends) passes untouched, whatever
// its Content-Type.
func (s *Server) readBody(shed *loadShedder, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
			next.ServeHTTP(w, r)
			return
		}
		if shed.full() && !openPaths[strings.TrimRight(r.URL.Path, "/")] {
			shed.refuse(w, r, true) // it would be shed after the read anyway
			return
		}
		limit := s.bodyLimit(r)
		ct := r.Header.Get("Content-Type")
		// What the headers already tell is answered without reading the body, and the connection is
		// closed rather than drained: net/http would otherwise read what is left of the body before
		// sending the answer.
		if r.ContentLength > limit {
			refuseBody(w, r, maestro.CodePayloadTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit))
			return
		}
		if r.ContentLength > 0 && !isJSONMediaType(ct) {
			refuseBody(w, r, maestro.CodeUnsupportedMedia, unsupportedMediaMessage(ct))
			return
		}
		buf, err := readAll(w, r, limit, s.opts.BodyGrace, s.opts.BodyMinRate)
		if err != nil {
			s.bodyFailed(w, r, err, limit)
			return
		}
		if len(buf) == 0 {
			r.Body, r.ContentLength = http.NoBody, 0
			next.ServeHTTP(w, r)
			return
		}
		if !isJSONMediaType(ct) {
			refuseBody(w, r, maestro.CodeUnsupportedMedia, unsupportedMediaMessage(ct))
			return
		}
		if !isLowerASCII(ct) {
			// Media types are case-insensitive, but huma looks its formats up as spelled.
			r.Header.Set("Content-Type", strings.ToLower(ct))
		}
		if field, ok := tooDeep(buf); !ok {
			apierr.Write(w, r, apierr.FromError(r.Context(), r.URL.Path, &maestro.Error{
				Code:    maestro.CodeValidation,
				Message: fmt.Sprintf("Invalid request: %s: JSON nested deeper than %d levels", field, MaxJSONDepth),
				Details: map[string]any{"field": field, "maxDepth": MaxJSONDepth},
			}))
			return
		}
		body := &bufferedBody{raw: buf}
		body.Reset(buf)
		r.Body, r.ContentLength = body, int64(len(buf))
		next.ServeHTTP(w, r)
	})
}

func isLowerASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return false
		}
	}
	return true
}

// bodyLimit is the most readBody reads of r's body: its operation's MaxBodyBytes, or maestro.MaxBodyBytes
// for a request that is no operation (which then never reads it). The router is asked which operation
// the request is for — it answers again when it serves it, a lookup the size of a route match.
func (s *Server) bodyLimit(r *http.Request) int64 {
	if s.mux == nil {
		return maestro.MaxBodyBytes
	}
	if _, pattern := s.mux.Handler(r); pattern != "" {
		if l, ok := s.bodyLimits[pattern]; ok {
			return l
		}
	}
	return maestro.MaxBodyBytes
}

func unsupportedMediaMessage(ct string) string {
	if ct == "" {
		return "a request body needs Content-Type: application/json; none was sent"
	}
	return "a request body needs Content-Type: application/json (or a +json type), not " + quote(ct)
}

// refuseBody answers a request whose body is not read (or not read to its end), closing the connection
// afterwards.
func refuseBody(w http.ResponseWriter, r *http.Request, code maestro.Code, msg string) {
	w.Header().Set("Connection", "close")
	apierr.Write(w, r, apierr.New(r.Context(), r.URL.Path, code, msg))
}

// errBodyTooLarge is readAll's error for a body over its limit.
var errBodyTooLarge = errors.New("request body too large")

// readAll reads r's body, at most limit bytes, keeping the connection's read deadline at the grace
// period plus the minimum rate for what is expected (the Content-Length, or what has arrived plus 32 KiB
// for a chunked body). Where the writer cannot set deadlines (a test recorder) it just reads.
func readAll(w http.ResponseWriter, r *http.Request, limit int64, grace time.Duration, minRate int64) ([]byte, error) {
	rc := http.NewResponseController(w)
	start := time.Now()
	hardStop := start.Add(serverReadTimeout)
	deadlineSet := false
	setDeadline := func(expected int64) {
		d := start.Add(grace + time.Duration(expected)*time.Second/time.Duration(minRate))
		if d.After(hardStop) {
			d = hardStop
		}
		if rc.SetReadDeadline(d) == nil {
			deadlineSet = true
		}
	}
	defer func() {
		if deadlineSet {
			// The deadline must not outlive the body: net/http's background read of the connection
			// (which notices a client that goes away) would hit it and cancel the request's context.
			_ = rc.SetReadDeadline(time.Time{})
		}
	}()
	size := r.ContentLength
	if size > 0 {
		setDeadline(size)
	}
	capHint := size
	if capHint < 0 || capHint > 64<<10 {
		capHint = 4 << 10 // a chunked or large body grows as it arrives, not as it is announced
	}
	buf := make([]byte, 0, capHint+1)
	for {
		if size < 0 {
			setDeadline(int64(len(buf)) + 32<<10)
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, errBodyTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, errBodyTooLarge
			}
			return nil, err
		}
	}
}

// bodyFailed answers a body that could not be read: too large (413), too slow (408), or cut off by the
// client (400, though nobody may be left to read it). None of these is a server error: they are logged
// at debug level and never reported to error tracking.
func (s *Server) bodyFailed(w http.ResponseWriter, r *http.Request, err error, limit int64) {
	ctx := r.Context()
	log := s.opts.Logger
	if obs.HasLogger(ctx) {
		log = obs.Log(ctx)
	}
	var ne net.Error
	switch {
	case errors.Is(err, errBodyTooLarge):
		refuseBody(w, r, maestro.CodePayloadTooLarge, fmt.Sprintf("request body is larger than %d bytes", limit))
	case errors.As(err, &ne) && ne.Timeout():
		log.DebugContext(ctx, "request body too slow", "method", r.Method, "path", r.URL.Path, "error", err.Error())
		refuseBody(w, r, maestro.CodeRequestTimeout, fmt.Sprintf(
			"request body arrived too slowly: after %s it must keep up %d bytes a second", s.opts.BodyGrace, s.opts.BodyMinRate))
	default:
		log.DebugContext(ctx, "request body cut off by the client", "method", r.Method, "path", r.URL.Path, "error", err.Error())
		refuseBody(w, r, maestro.CodeValidation, "request body ended early: "+err.Error())
	}
}

// tooDeep checks the nesting of a JSON body: a free-form field (freeFormKeys) may nest MaxJSONDepth
// levels, the whole body maxBodyDepth. It returns the field that nests too deep ("body.metadata",
// "body.tasks[2].metadata") and false. A first pass only counts brackets, without allocating; the
// fields are named by a second pass, which runs only for bodies deeper than MaxJSONDepth. Malformed
// JSON passes: decoding it reports that better.
func tooDeep(b []byte) (string, bool) {
	if maxDepth(b) <= MaxJSONDepth {
		return "", true
	}
	return deepField(b)
}

// maxDepth returns the deepest bracket nesting of b, skipping strings.
func maxDepth(b []byte) int {
	depth, deepest := 0, 0
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > deepest {
				deepest = depth
			}
		case '}', ']':
			depth--
		}
	}
	return deepest
}

// deepField walks b's tokens with their paths to name the field that nests too deep (see tooDeep).
func deepField(b []byte) (string, bool) {
	type frame struct {
		obj       bool
		seg       string // this container's path segment: ".key" or "[i]"
		key       string // the member whose value comes next (objects)
		expectKey bool
		idx       int
	}
	var stack []frame
	freeAt, freePath, freeExtra := -1, "", 0 // stack length at which the outermost free-form value started
	path := func(n int) string {
		var sb strings.Builder
		sb.WriteString("body")
		for _, f := range stack[:n] {
			sb.WriteString(f.seg)
		}
		return sb.String()
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", true // the end, or malformed JSON, which decoding reports
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			if len(stack) < freeAt {
				freeAt = -1
			}
			if n := len(stack); n > 0 {
				if stack[n-1].obj {
					stack[n-1].expectKey = true
				} else {
					stack[n-1].idx++
				}
			}
			continue
		}
		var seg, key string
		if n := len(stack); n > 0 {
			parent := &stack[n-1]
			if parent.obj && parent.expectKey {
				parent.key, _ = tok.(string)
				parent.expectKey = false
				continue
			}
			if parent.obj {
				key = parent.key
				seg = "." + key
			} else {
				seg = "[" + strconv.Itoa(parent.idx) + "]"
			}
		}
		d, isOpen := tok.(json.Delim)
		if !isOpen {
			// A scalar value: the parent moves on.
			if n := len(stack); n > 0 {
				if stack[n-1].obj {
					stack[n-1].expectKey = true
				} else {
					stack[n-1].idx++
				}
			}
			continue
		}
		stack = append(stack, frame{obj: d == '{', seg: seg, expectKey: d == '{'})
		if extra, ok := freeFormKeys[key]; ok && freeAt < 0 {
			freeAt, freePath, freeExtra = len(stack), path(len(stack)), extra
		}
		if freeAt >= 0 && len(stack)-freeAt+1 > MaxJSONDepth+freeExtra {
			return freePath, false
		}
		if len(stack) > maxBodyDepth {
			return path(min(len(stack), 4)), false
		}
	}
}
