package maestro

// Component health states reported by /health.
const (
	HealthOK       = "ok"
	HealthDegraded = "degraded"
	HealthDown     = "down"
)

// ComponentHealth is the state of one part of the server (database, skills, error tracking…).
type ComponentHealth struct {
	Status string `json:"status" enum:"ok,degraded,down" doc:"ok, degraded or down."`
	Reason string `json:"reason,omitempty" doc:"Why the component is not ok."`
}

// HealthReporter reports the current state of one component. It must be cheap: /health calls it on
// every request, so it returns state kept up to date elsewhere instead of probing.
type HealthReporter interface {
	Health() ComponentHealth
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
