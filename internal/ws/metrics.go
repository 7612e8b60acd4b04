package ws

import (
	"github.com/maestro-hq/maestro-server/internal/obs"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the connection metrics (the hub counts events and slow consumers).
type metrics struct {
	connections prometheus.Gauge
	sent        prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	return &metrics{
		connections: obs.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "maestro_ws_connections",
			Help: "WebSocket connections open now (legacy socket and v2 stream).",
		})),
		sent: obs.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "maestro_ws_messages_sent_total",
			Help: "Messages written to WebSocket clients (events, pongs, resyncs).",
		})),
	}
}
