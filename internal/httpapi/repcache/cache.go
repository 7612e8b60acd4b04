package repcache

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"hash/crc64"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/maestro-hq/maestro-server/internal/obs"
)

// MaxEntryBytes is the largest body kept: larger ones are served as they are, each time.
const MaxEntryBytes = 2 << 20

// GzipMinBytes is the smallest cached body offered gzip-compressed to clients that accept it; below
// it, compressing saves less than the header costs.
const GzipMinBytes = 8 << 10

// Cache holds encoded responses of one commit sequence at a time.
type Cache struct {
	gzip     bool
	seq      func() uint64
	maxBytes int64
	prefixes []string
	routes   map[string]bool

	mu      sync.RWMutex
	gen     uint64 // the commit sequence every entry belongs to
	size    int64
	entries map[string]*entry

	// flights are the misses being served right now, by key: a request that misses while another
	// one reads the same key at the same sequence waits for it instead of running the same query.
	// After a commit every client of a hot list misses at once; without this, each of them ran the
	// list query (32 at once in maestro-bench, and its p99 went from 33 ms to over a second).
	flightMu sync.Mutex
	flights  map[string]*flight
	onFollow func() // tests: a request started waiting for a flight
}

// flight is one miss in progress; e is its entry, nil when its response was not kept.
type flight struct {
	gen  uint64
	done chan struct{}
	e    *entry
}

// join returns the flight for k at gen and whether the caller leads it (must serve the miss and
// land it) or follows it (waits on done).
func (c *Cache) join(k string, gen uint64) (f *flight, leader bool) {
	c.flightMu.Lock()
	defer c.flightMu.Unlock()
	if f := c.flights[k]; f != nil && f.gen == gen {
		return f, false
	}
	f = &flight{gen: gen, done: make(chan struct{})}
	if c.flights == nil {
		c.flights = map[string]*flight{}
	}
	c.flights[k] = f
	return f, true
}

func (c *Cache) land(k string, f *flight, e *entry) {
	c.flightMu.Lock()
	if c.flights[k] == f {
		delete(c.flights, k)
	}
	c.flightMu.Unlock()
	f.e = e
	close(f.done)
}

// entry is one cached response: everything the handler set, so that a hit is indistinguishable from
// a miss to the client and to the outer layers (logs, metrics and the audit see the same route).
type entry struct {
	body   []byte
	header http.Header // the headers the handler added
	etag   string
	route  string
	params [][2]string

	// The gzip variant, compressed once on first demand and served to every client that accepts it.
	gzOnce sync.Once
	gz     []byte
	gzTag  string
}

func (e *entry) gzipped() ([]byte, string) {
	e.gzOnce.Do(func() {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
		if _, err := zw.Write(e.body); err != nil || zw.Close() != nil {
			return
		}
		e.gz = b.Bytes()
		e.gzTag = strings.TrimSuffix(e.etag, `"`) + `-gz"` // another coding, another strong tag
	})
	return e.gz, e.gzTag
}

// New returns a cache that reads the current commit sequence from seq, keeps at most maxBytes of
// bodies, and caches GETs whose route template is one of routes (e.g. "/api/v1/tasks/{id}"). A route
// is looked up after its handler ran; the literal prefix of each template (up to its first "{")
// decides cheaply which requests are worth buffering at all.
func New(seq func() uint64, maxBytes int64, routes ...string) *Cache {
	c := &Cache{seq: seq, maxBytes: maxBytes, routes: map[string]bool{}, entries: map[string]*entry{}}
	for _, r := range routes {
		c.routes[r] = true
		p, _, _ := strings.Cut(r, "{")
		c.addPrefix(p)
	}
	return c
}

func (c *Cache) addPrefix(p string) {
	for _, q := range c.prefixes {
		if strings.HasPrefix(p, q) {
			return
		}
	}
	c.prefixes = append(c.prefixes, p)
}

func (c *Cache) candidate(r *http.Request) bool {
	if r.Method != http.MethodGet {
		return false
	}
	for _, p := range c.prefixes {
		if strings.HasPrefix(r.URL.Path, p) {
			return true
		}
	}
	return false
}

// Gzip offers the large cached bodies gzip-compressed to clients that accept it, and returns c.
func (c *Cache) Gzip(on bool) *Cache {
	c.gzip = on
	return c
}

// Len returns the number of entries (for tests).
func (c *Cache) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.entries)
}

// key names one representation: the routed path and query, and the Accept header that picks its
// format.
func key(r *http.Request) string {
	return r.URL.Path + "?" + r.URL.RawQuery + "\x00" + r.Header.Get("Accept")
}

func (c *Cache) lookup(k string, gen uint64) *entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.gen != gen {
		return nil
	}
	return c.entries[k]
}

// store keeps e as of commit sequence gen unless a newer commit already made it stale. Entries of an
// older sequence are all dropped at once: none of them may be served again.
func (c *Cache) store(k string, gen uint64, e *entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case gen < c.gen:
		return
	case gen > c.gen:
		// clear keeps the map's memory: under a stream of writes this runs once per commit.
		c.gen, c.size = gen, 0
		clear(c.entries)
	}
	n := int64(len(e.body) + len(k))
	if old := c.entries[k]; old != nil {
		c.size -= int64(len(old.body) + len(k))
	}
	if c.size+n > c.maxBytes {
		// Over budget: start again rather than track recency; a new commit empties it soon anyway.
		c.size = 0
		clear(c.entries)
	}
	c.entries[k] = e
	c.size += n
}

var crcTable = crc64.MakeTable(crc64.ECMA)

func etagOf(body []byte) string {
	var b [8]byte
	s := crc64.Checksum(body, crcTable)
	for i := range b {
		b[i] = byte(s >> (56 - 8*i))
	}
	return `"r` + hex.EncodeToString(b[:]) + `-` + strconv.Itoa(len(body)) + `"`
}

// notModified reports whether an If-None-Match header names etag (weak comparison, RFC 9110 §13.1.2).
func notModified(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// Middleware serves cached representations and caches the 200 responses of the configured routes. It
// must sit inside the layers that authenticate, route the API version and record the route (it reads
// and sets the request's obs.RequestInfo route), and outside the router.
func (c *Cache) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.candidate(r) {
			next.ServeHTTP(w, r)
			return
		}
		// The sequence is read before the handler reads the database: an entry is never labelled
		// with a sequence newer than the data it holds.
		gen := c.seq()
		k := key(r)
		if e := c.lookup(k, gen); e != nil {
			if info := obs.RequestInfoFrom(r.Context()); info != nil {
				info.SetRoute(e.route, e.params)
			}
			c.write(w, r, e)
			return
		}
		f, leader := c.join(k, gen)
		if !leader {
			if c.onFollow != nil {
				c.onFollow()
			}
			select {
			case <-f.done:
				if f.e != nil {
					if info := obs.RequestInfoFrom(r.Context()); info != nil {
						info.SetRoute(f.e.route, f.e.params)
					}
					c.write(w, r, f.e)
					return
				}
				// The leader's response was not kept (an error, too large): serve this one alone.
			case <-r.Context().Done():
				// Gone or past its deadline: the handler answers as it would for any request.
			}
			c.serveMiss(next, w, r, k, gen, nil)
			return
		}
		c.serveMiss(next, w, r, k, gen, f)
	})
}

// serveMiss runs the handler for a request the cache could not answer, keeps a 200 of a cached route
// and writes the response. When f is set, this request leads that flight: it lands it, kept or not,
// before writing to its own client, so that a slow client does not hold the others back.
func (c *Cache) serveMiss(next http.Handler, w http.ResponseWriter, r *http.Request, k string, gen uint64, f *flight) {
	landed := f == nil
	land := func(e *entry) {
		if !landed {
			landed = true
			c.land(k, f, e)
		}
	}
	defer land(nil) // a panic or a response not kept: the followers serve themselves
	h := w.Header()
	before := make(map[string]bool, len(h))
	for name := range h {
		before[name] = true
	}
	rec := &recorder{ResponseWriter: w}
	next.ServeHTTP(rec, r)
	info := obs.RequestInfoFrom(r.Context())
	if rec.status() != http.StatusOK || rec.overflow || info == nil || !c.routes[info.Route()] {
		land(nil)
		rec.flush()
		return
	}
	e := &entry{body: rec.buf, header: http.Header{}, etag: etagOf(rec.buf), route: info.Route(), params: info.Params()}
	for name, v := range h {
		if !before[name] {
			e.header[name] = v[:len(v):len(v)] // shared by every hit: an append must copy
		}
	}
	c.store(k, gen, e)
	land(e)
	c.write(w, r, e)
}

// write answers from e: 304 when the client holds it already, the cached bytes otherwise.
func (c *Cache) write(w http.ResponseWriter, r *http.Request, e *entry) {
	h := w.Header()
	for name, v := range e.header {
		h[name] = v
	}
	body, etag := e.body, e.etag
	if c.gzip && len(body) >= GzipMinBytes {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			if gz, tag := e.gzipped(); gz != nil {
				body, etag = gz, tag
				h.Set("Content-Encoding", "gzip")
			}
		}
	}
	h.Set("ETag", etag)
	if h.Get("Cache-Control") == "" {
		// A browser may keep the response, but must ask again (If-None-Match) before each use: the
		// ETag alone would let it apply heuristic freshness.
		h.Set("Cache-Control", "no-cache")
	}
	if notModified(r.Header.Get("If-None-Match"), etag) {
		h.Del("Content-Type")
		h.Del("Content-Length")
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip (and does not refuse it by q=0).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// recorder buffers a candidate response so that it can be kept; a body larger than MaxEntryBytes
// is passed through as soon as it is known to be too large.
type recorder struct {
	http.ResponseWriter
	code     int
	buf      []byte
	overflow bool
}

func (r *recorder) status() int {
	if r.code == 0 {
		return http.StatusOK
	}
	return r.code
}

func (r *recorder) WriteHeader(code int) {
	if r.code == 0 {
		r.code = code
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.overflow {
		return r.ResponseWriter.Write(b)
	}
	if len(r.buf)+len(b) > MaxEntryBytes {
		r.overflow = true
		r.ResponseWriter.WriteHeader(r.status())
		if _, err := r.ResponseWriter.Write(r.buf); err != nil {
			return 0, err
		}
		r.buf = nil
		return r.ResponseWriter.Write(b)
	}
	r.buf = append(r.buf, b...)
	return len(b), nil
}

// flush writes what was buffered, for a response that is not kept.
func (r *recorder) flush() {
	if r.overflow {
		return
	}
	r.ResponseWriter.WriteHeader(r.status())
	if len(r.buf) > 0 {
		_, _ = r.ResponseWriter.Write(r.buf)
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
