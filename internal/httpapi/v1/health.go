package v1

import (
	"context"
	"net/http"
	"sort"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// Health is the body of GET /health: the v1 fields plus per-component states (DESIGN §12).
type Health struct {
	Status     string                     `json:"status" enum:"ok,degraded" doc:"ok, or degraded when a component is not ok."`
	Timestamp  int64                      `json:"timestamp" doc:"Server time, ms since the epoch."`
	Uptime     float64                    `json:"uptime" doc:"Seconds since start."`
	Components map[string]ComponentHealth `json:"components" doc:"State of each component."`
}

// ComponentHealth is the state of one part of the server (maestro.ComponentHealth on the wire).
type ComponentHealth struct {
	Status string `json:"status" enum:"ok,degraded,down" doc:"ok, degraded or down."`
	Reason string `json:"reason,omitempty" doc:"Why the component is not ok."`
}

// WSClient is one WebSocket client as /ws-status reports it (SPEC §2.3).
type WSClient struct {
	ReadyState     int    `json:"readyState" doc:"0 CONNECTING, 1 OPEN, 2 CLOSING, 3 CLOSED."`
	ReadyStateText string `json:"readyStateText" doc:"CONNECTING, OPEN, CLOSING or CLOSED."`
}

// WSStatus is the body of /ws-status.
type WSStatus struct {
	ConnectedClients int        `json:"connectedClients"`
	Clients          []WSClient `json:"clients"`
}

type healthOutput struct{ Body Health }

type wsStatusOutput struct{ Body WSStatus }

// healthV1 holds what the Health operations need; each method serves one of them and is named
// after its operation ID.
type healthV1 struct {
	d     Deps
	names []string
}

func registerHealth(api huma.API, d Deps) {
	names := make([]string, 0, len(d.Components))
	for n := range d.Components {
		names = append(names, n)
	}
	sort.Strings(names)

	h := healthV1{d: d, names: names}
	huma.Register(api, op("health", http.MethodGet, "/health", "Health", "Server health",
		"Always answers 200 while the process serves requests; `status` is `degraded` when a component "+
			"(database, skills directory, error tracking) is not ok. Open without a token."),
		h.health)

	huma.Register(api, op("ws-status", http.MethodGet, "/ws-status", "Health", "WebSocket clients",
		"The WebSocket clients connected right now and the state of each."),
		h.wsStatus)
}

func (h healthV1) health(ctx context.Context, _ *struct{}) (*healthOutput, error) {
	now := h.d.Now()
	out := Health{
		Status: maestro.HealthOK, Timestamp: now.UnixMilli(),
		Uptime:     now.Sub(h.d.Started).Seconds(),
		Components: make(map[string]ComponentHealth, len(h.names)),
	}
	for _, n := range h.names {
		c := h.d.Components[n].Health()
		out.Components[n] = ComponentHealth(c)
		if c.Status != maestro.HealthOK {
			out.Status = maestro.HealthDegraded
		}
	}
	return &healthOutput{Body: out}, nil
}

func (h healthV1) wsStatus(ctx context.Context, _ *struct{}) (*wsStatusOutput, error) {
	out := WSStatus{Clients: []WSClient{}}
	if h.d.WSStatus != nil {
		st := h.d.WSStatus()
		out.ConnectedClients = st.ConnectedClients
		for _, c := range st.Clients {
			out.Clients = append(out.Clients, WSClient(c))
		}
	}
	return &wsStatusOutput{Body: out}, nil
}
