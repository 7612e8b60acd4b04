package ws

import (
	"context"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// StreamPath is the v2 event stream. Every other path with an upgrade gets the legacy socket.
const StreamPath = "/api/v2/events/stream"

// endpoint is which socket a request asked for.
type endpoint int

const (
	legacySocket endpoint = iota
	streamSocket
)

func endpointOf(path string) endpoint {
	if strings.TrimRight(path, "/") == StreamPath {
		return streamSocket
	}
	return legacySocket
}

// params are the query parameters of an upgrade.
type params struct {
	since    int64
	hasSince bool
	// Stream filters: nil means no filter.
	types    map[string]bool
	projects map[string]bool
}

// knownTypes are the event types a v2 `types` filter may name.
var knownTypes = func() map[string]bool {
	m := make(map[string]bool, len(maestro.EventCatalog))
	for _, spec := range maestro.EventCatalog {
		m[spec.Type] = true
	}
	return m
}()

// parseParams reads since (both sockets) and the v2 filters. Errors name the parameter.
func parseParams(r *http.Request, ep endpoint) (params, *maestro.Error) {
	q := r.URL.Query()
	var p params
	if vs, ok := q["since"]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(vs[0]), 10, 64)
		if err != nil || n < 0 || len(vs) > 1 {
			return p, maestro.InvalidField("since", "since must be one non-negative integer (the seq of the last event received)")
		}
		p.since, p.hasSince = n, true
	}
	if ep != streamSocket {
		return p, nil
	}
	if vs, ok := q["types"]; ok {
		p.types = map[string]bool{}
		var unknown []string
		for _, t := range splitList(vs) {
			if !knownTypes[t] {
				unknown = append(unknown, t)
			}
			p.types[t] = true
		}
		if len(unknown) > 0 {
			e := maestro.InvalidField("types", "unknown event type(s): %s", strings.Join(unknown, ", "))
			e.Details["known"] = sortedKeys(knownTypes)
			return p, e
		}
		if len(p.types) == 0 {
			return p, maestro.InvalidField("types", "types must list at least one event type")
		}
	}
	if vs, ok := q["projectId"]; ok {
		p.projects = map[string]bool{}
		for _, id := range splitList(vs) {
			p.projects[id] = true
		}
		if len(p.projects) == 0 {
			return p, maestro.InvalidField("projectId", "projectId must name at least one project")
		}
	}
	return p, nil
}

// filter returns the subscription filter of the v2 parameters, nil when there is none. Events without a
// project (flag:updated, skills:changed) do not match a projectId filter.
func (p params) filter() func(*maestro.Event) bool {
	if p.types == nil && p.projects == nil {
		return nil
	}
	types, projects := p.types, p.projects
	return func(ev *maestro.Event) bool {
		return (types == nil || types[ev.Type]) && (projects == nil || projects[ev.ProjectID])
	}
}

// splitList accepts repeated parameters and comma-separated values alike.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part != "" {
				out = append(out, part)
			}
		}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// errorContext marks ctx with the API version whose error shape the endpoint uses: the stream answers in
// v2's problem+json, the legacy socket in v1's shape. Upgrades skip the version routing middleware, so
// the handler marks it itself.
func errorContext(ctx context.Context, ep endpoint) context.Context {
	if ep == streamSocket {
		return apierr.WithVersion(ctx, 2)
	}
	return apierr.WithVersion(ctx, 1)
}

// refuse answers an upgrade request with an error in the endpoint's shape.
func refuse(w http.ResponseWriter, r *http.Request, ep endpoint, e *maestro.Error) {
	ctx := errorContext(r.Context(), ep)
	se := apierr.FromError(ctx, r.URL.Path, e)
	apierr.Write(w, r, se)
}

// refuseUnavailable answers 503: the server is shutting down, or streaming is switched off. DESIGN §6
// fixes 503 for the streaming switch (a state to retry later, with Retry-After) where a switched-off
// endpoint is otherwise a 404, so the status is set here rather than taken from the code table.
func refuseUnavailable(w http.ResponseWriter, r *http.Request, ep endpoint, code maestro.Code, msg string, details map[string]any, retryAfter int) {
	ctx := errorContext(r.Context(), ep)
	se := apierr.New(ctx, r.URL.Path, code, msg)
	switch e := se.(type) {
	case *apierr.LegacyErr:
		e.StatusCode, e.Details = http.StatusServiceUnavailable, details
	case *apierr.ProblemErr:
		e.Status, e.Title, e.Details = http.StatusServiceUnavailable, http.StatusText(http.StatusServiceUnavailable), details
	}
	if h, ok := se.(huma.HeadersError); !ok || h.GetHeaders().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	apierr.Write(w, r, se)
}
