package obs

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric of the server.
const Namespace = "maestro"

// NewRegistry returns a private registry (never the global one, so that parallel tests and embedding
// programs do not collide) with the Go runtime, process and build-info collectors, and
// maestro_build_info{version,goversion} = 1. Other packages register their own metrics on it.
func NewRegistry(version string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "build_info",
			Help:        "Always 1; the labels say which build is running.",
			ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
		}, func() float64 { return 1 }),
	)
	return reg
}

// Register registers c on reg and returns it; when an equal collector is already registered (two hubs
// or servers on one registry, as in tests), it returns that one so both count into the same series. A
// nil reg leaves c unregistered.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		// A different collector under the same name is a programming error, caught by any test.
		panic(err)
	}
	return c
}

// MetricsHandler serves g in the Prometheus text format. A collector that fails (say, the database
// is locked past the scrape deadline) is logged and left out; the rest of the scrape still answers.
func MetricsHandler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
		Timeout:       10 * time.Second,
	})
}

// HTTPMetrics are the request counters and latency histogram of the HTTP API.
type HTTPMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// NewHTTPMetrics registers the HTTP metrics on reg.
func NewHTTPMetrics(reg prometheus.Registerer) *HTTPMetrics {
	m := &HTTPMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests served, by method, route template and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "http_request_duration_seconds",
			Help:    "Time from receiving a request to finishing its response, by method and route template (WebSocket connections are not timed).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: Namespace, Name: "http_requests_in_flight",
			Help: "HTTP requests being served right now.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inFlight)
	return m
}

// Start counts a request in flight; call the returned function when it is done.
func (m *HTTPMetrics) Start() func() {
	m.inFlight.Inc()
	return m.inFlight.Dec
}

// Observe records one finished request. route must be a template (or a fixed placeholder such as
// "unmatched"), never a raw path: every distinct value is a new time series. Hijacked connections
// (WebSockets) are counted but not timed, since their duration is the life of the connection.
func (m *HTTPMetrics) Observe(method, route string, code int, d time.Duration, hijacked bool) {
	method = MethodLabel(method)
	m.requests.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
	if !hijacked {
		m.duration.WithLabelValues(method, route).Observe(d.Seconds())
	}
}

// MethodLabel bounds the method label to the methods HTTP defines; anything else is "OTHER".
func MethodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// DBCollector reports the SQLite pools (maestro_db_*{pool}) and the database size on disk, read at
// scrape time.
type DBCollector struct {
	stats func() map[string]sql.DBStats
	path  string

	open, inUse, idle, maxOpen, waitCount, waitSeconds, closedIdle, closedLifetime, size *prometheus.Desc
}

// NewDBCollector reports the pools stats returns (pool name → stats) and the size of the database
// file at path plus its write-ahead log.
func NewDBCollector(stats func() map[string]sql.DBStats, path string) *DBCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(Namespace, "db", name), help, labels, nil)
	}
	return &DBCollector{
		stats: stats, path: path,
		open:           d("open_connections", "Connections open in the pool (in use + idle).", "pool"),
		inUse:          d("in_use_connections", "Connections in use.", "pool"),
		idle:           d("idle_connections", "Idle connections.", "pool"),
		maxOpen:        d("max_open_connections", "Maximum connections the pool may open.", "pool"),
		waitCount:      d("wait_count_total", "Times a caller waited for a connection.", "pool"),
		waitSeconds:    d("wait_duration_seconds_total", "Total time callers waited for a connection.", "pool"),
		closedIdle:     d("max_idle_closed_total", "Connections closed because the idle pool was full.", "pool"),
		closedLifetime: d("max_lifetime_closed_total", "Connections closed for reaching their maximum lifetime or idle time.", "pool"),
		size:           d("size_bytes", "Size of the database file plus its write-ahead log, in bytes."),
	}
}

// Describe implements prometheus.Collector.
func (c *DBCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.inUse, c.idle, c.maxOpen, c.waitCount, c.waitSeconds, c.closedIdle, c.closedLifetime, c.size} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *DBCollector) Collect(ch chan<- prometheus.Metric) {
	for pool, s := range c.stats() {
		g := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, pool)
		}
		k := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, pool)
		}
		g(c.open, float64(s.OpenConnections))
		g(c.inUse, float64(s.InUse))
		g(c.idle, float64(s.Idle))
		g(c.maxOpen, float64(s.MaxOpenConnections))
		k(c.waitCount, float64(s.WaitCount))
		k(c.waitSeconds, s.WaitDuration.Seconds())
		k(c.closedIdle, float64(s.MaxIdleClosed))
		k(c.closedLifetime, float64(s.MaxLifetimeClosed+s.MaxIdleTimeClosed))
	}
	if c.path != "" {
		var total int64
		for _, p := range []string{c.path, c.path + "-wal"} {
			if fi, err := os.Stat(p); err == nil {
				total += fi.Size()
			}
		}
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(total))
	}
}

// DiskCollector reports maestro_disk_free_bytes of the filesystem holding dir.
type DiskCollector struct {
	dir  string
	desc *prometheus.Desc
}

// NewDiskCollector reports the free space of the filesystem holding dir.
func NewDiskCollector(dir string) *DiskCollector {
	return &DiskCollector{dir: dir, desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "disk", "free_bytes"),
		"Bytes available to the server on the filesystem holding the database.", nil, nil)}
}

// Describe implements prometheus.Collector.
func (c *DiskCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *DiskCollector) Collect(ch chan<- prometheus.Metric) {
	free, err := DiskFree(c.dir)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(free))
}

// EntityCount is the number of entities of one kind in one status.
type EntityCount struct {
	Kind   string
	Status string
	N      int64
}

// EntityCollector reports maestro_tasks{status} and maestro_sessions{status} from per-status counts
// the database keeps current on every write (triggers on the entity tables), read at scrape time: a
// scrape costs one small indexed read, never a scan of the tasks or sessions.
type EntityCollector struct {
	counts          func(context.Context) ([]EntityCount, error)
	timeout         time.Duration
	tasks, sessions *prometheus.Desc
}

// NewEntityCollector reads the counts with counts (kinds "task" and "session") at every scrape.
func NewEntityCollector(counts func(context.Context) ([]EntityCount, error)) *EntityCollector {
	return &EntityCollector{
		counts: counts, timeout: 5 * time.Second,
		tasks:    prometheus.NewDesc(Namespace+"_tasks", "Tasks by status.", []string{"status"}, nil),
		sessions: prometheus.NewDesc(Namespace+"_sessions", "Sessions by status.", []string{"status"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *EntityCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.tasks
	ch <- c.sessions
}

// Collect implements prometheus.Collector.
func (c *EntityCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	rows, err := c.counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.tasks, err)
		return
	}
	// Statuses are client-chosen strings in v1 (SPEC D11): only the contract's statuses get a series of
	// their own, every other one is counted under "other", and statuses with nothing in them are left
	// out, so that the number of series stays bounded however many strings clients invent.
	var tasks, sessions [statusSlots]float64
	for _, r := range rows {
		switch r.Kind {
		case "task":
			tasks[slotOf(taskStatuses, r.Status)] += float64(r.N)
		case "session":
			sessions[slotOf(sessionStatuses, r.Status)] += float64(r.N)
		}
	}
	emit := func(desc *prometheus.Desc, known []string, counts *[statusSlots]float64) {
		for i, n := range counts {
			if n == 0 {
				continue
			}
			label := otherStatus
			if i < len(known) {
				label = known[i]
			}
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, n, label)
		}
	}
	emit(c.tasks, taskStatuses, &tasks)
	emit(c.sessions, sessionStatuses, &sessions)
}

// The statuses the clients use (SPEC §2, the CLI's session "running"), which label series of their own.
var (
	taskStatuses = []string{maestro.TaskTodo, maestro.TaskInProgress, maestro.TaskCompleted, maestro.TaskCancelled,
		maestro.TaskBlocked}
	sessionStatuses = []string{maestro.SessionSpawning, maestro.SessionIdle, maestro.SessionWorking, maestro.SessionRunning,
		maestro.SessionCompleted, maestro.SessionFailed, maestro.SessionStopped}
)

// otherStatus labels every status that is not one of the contract's.
const otherStatus = "other"

// statusSlots is room for the longest status list plus "other".
const statusSlots = 8

// slotOf returns the index of status in known, or len(known) ("other").
func slotOf(known []string, status string) int {
	for i, k := range known {
		if k == status {
			return i
		}
	}
	return len(known)
}
