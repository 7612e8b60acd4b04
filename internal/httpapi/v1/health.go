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
	Status     string                             `json:"status" enum:"ok,degraded" doc:"ok, or degraded when a component is not ok."`
	Timestamp  int64                              `json:"timestamp" doc:"Server time, ms since the epoch."`
	Uptime     float64                            `json:"uptime" doc:"Seconds since start."`
	Components map[string]maestro.ComponentHealth `json:"components" doc:"State of each component."`
}

type healthOutput struct{ Body Health }

type wsStatusOutput struct{ Body maestro.WSStatus }

func registerHealth(api huma.API, d Deps) {
	names := make([]string, 0, len(d.Components))
	for n := range d.Components {
		names = append(names, n)
	}
	sort.Strings(names)

	huma.Register(api, op("health", http.MethodGet, "/health", "Health", "Server health",
		"Always answers 200 while the process serves requests; `status` is `degraded` when a component "+
			"(database, skills directory, error tracking) is not ok. Open without a token."),
		func(ctx context.Context, _ *struct{}) (*healthOutput, error) {
			now := d.Now()
			h := Health{
				Status: maestro.HealthOK, Timestamp: now.UnixMilli(),
				Uptime:     now.Sub(d.Started).Seconds(),
				Components: make(map[string]maestro.ComponentHealth, len(names)),
			}
			for _, n := range names {
				c := d.Components[n].Health()
				h.Components[n] = c
				if c.Status != maestro.HealthOK {
					h.Status = maestro.HealthDegraded
				}
			}
			return &healthOutput{Body: h}, nil
		})

	huma.Register(api, op("ws-status", http.MethodGet, "/ws-status", "Health", "WebSocket clients",
		"The WebSocket clients connected right now and the state of each."),
		func(ctx context.Context, _ *struct{}) (*wsStatusOutput, error) {
			st := maestro.WSStatus{Clients: []maestro.WSClient{}}
			if d.WSStatus != nil {
				st = d.WSStatus()
				if st.Clients == nil {
					st.Clients = []maestro.WSClient{}
				}
			}
			return &wsStatusOutput{Body: st}, nil
		})
}
