package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// ReadyCheck is one condition /readyz requires: Check returns nil when it holds.
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

// CheckResult is the outcome of one readiness check.
type CheckResult struct {
	Status string `json:"status"` // ok or fail
	Reason string `json:"reason,omitempty"`
}

// Readiness is the body of /readyz.
type Readiness struct {
	Status string                 `json:"status"` // ready or not_ready
	Checks map[string]CheckResult `json:"checks"`
}

// readyTimeout bounds each readiness check, so that a stuck database makes /readyz answer 503 quickly
// instead of hanging the probe.
const readyTimeout = 2 * time.Second

// registerProbes adds /healthz (liveness: the process serves HTTP) and /readyz (readiness: every
// ReadyCheck passes). Both are open without a token (openPaths) and answer plain JSON, not an API
// version's shape: they are for supervisors and load balancers, which read the status code.
func (s *Server) registerProbes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		body := Readiness{Status: "ready", Checks: make(map[string]CheckResult, len(s.opts.Ready))}
		for _, c := range s.opts.Ready {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			err := c.Check(ctx)
			cancel()
			if err != nil {
				body.Status = "not_ready"
				body.Checks[c.Name] = CheckResult{Status: "fail", Reason: err.Error()}
				continue
			}
			body.Checks[c.Name] = CheckResult{Status: "ok"}
		}
		status := http.StatusOK
		if body.Status != "ready" {
			status = http.StatusServiceUnavailable
			w.Header().Set("Retry-After", "5")
		}
		writeJSON(w, r, status, body)
	})
}

func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_ = json.NewEncoder(w).Encode(v)
	}
}
