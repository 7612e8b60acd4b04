package events

import (
	"github.com/maestro-hq/maestro-server/internal/obs"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the hub's Prometheus collectors. Without a registerer they still count, unregistered, so
// the code that updates them needs no nil checks.
type metrics struct {
	events        *prometheus.CounterVec
	slow          prometheus.Counter
	flushWait     prometheus.Histogram
	flushTimeouts prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		events: obs.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "maestro_events_total",
			Help: "Events published to subscribers, by event type (each seq counted once).",
		}, []string{"type"})),
		slow: obs.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "maestro_ws_slow_consumers_total",
			Help: "Subscribers dropped because their buffer was full (closed with 1008; they resume with since).",
		})),
		flushWait: obs.Register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "maestro_events_flush_wait_seconds",
			Help:    "How long a write request waited, after its commit, for its events to be written to every live socket.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25},
		})),
		flushTimeouts: obs.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "maestro_events_flush_timeouts_total",
			Help: "Times a socket did not take a request's events within EVENT_FLUSH_TIMEOUT (the reply went out without it).",
		})),
	}
}
