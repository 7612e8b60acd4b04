package maestro

// Component health states.
const (
	HealthOK       = "ok"
	HealthDegraded = "degraded"
	HealthDown     = "down"
)

// ComponentHealth is the state of one part of the server (database, skills, error tracking…).
type ComponentHealth struct {
	// Status is HealthOK, HealthDegraded or HealthDown; Reason says why it is not ok.
	Status string
	Reason string
}

// HealthReporter reports the current state of one component. It must be cheap: health checks call it
// on every request, so it returns state kept up to date elsewhere instead of probing.
type HealthReporter interface {
	Health() ComponentHealth
}

// WSClient is the state of one WebSocket client, as the WebSocket layer names it (its readyState
// number and name, SPEC §2.3).
type WSClient struct {
	ReadyState     int
	ReadyStateText string
}

// WSStatus is the WebSocket clients connected right now.
type WSStatus struct {
	ConnectedClients int
	Clients          []WSClient
}
