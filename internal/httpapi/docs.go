package httpapi

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/maestro-hq/maestro-server/internal/apierr"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// docsAssets are the files the docs pages load: Swagger UI (vendored from npm by
// scripts/vendor-docs.sh; version in docs/assets/swagger-ui/VERSION), its starter script and the
// pages' stylesheet. They are embedded so the docs work with no network at all.
//
//go:embed docs/assets
var docsAssets embed.FS

// registerDocs adds the documentation pages: /docs (index), /api/v1/docs and /api/v2/docs (Swagger UI
// over each version's OpenAPI document), /docs/events (the WebSocket events), the events JSON Schema
// at /docs/events.schema.json, and the embedded assets under /docs/assets/.
func (s *Server) registerDocs(mux *http.ServeMux) {
	assets, err := fs.Sub(docsAssets, "docs/assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.StripPrefix("/docs/assets/", http.FileServerFS(assets))
	mux.Handle("GET /docs/assets/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Files only: no directory listings, and no redirects (trailing slashes are stripped upstream,
		// so the file server's "add a slash" redirect for a directory would loop).
		name := strings.TrimPrefix(r.URL.Path, "/docs/assets/")
		if fi, err := fs.Stat(assets, name); err != nil || fi.IsDir() {
			notFound(w, r)
			return
		}
		// The assets change only with the binary: a day of caching spares reloading 1.7 MB of script.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	}))
	mux.HandleFunc("GET /docs/assets", notFound)
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		renderPage(w, r, indexPage, map[string]any{
			"V1Ops": len(operations(s.v1.OpenAPI())), "V2Ops": len(operations(s.v2.OpenAPI())),
			"Events": len(maestro.EventCatalog),
		})
	})
	for _, v := range []struct {
		n    string
		path string
	}{{"1", "/api/v1"}, {"2", "/api/v2"}} {
		mux.HandleFunc("GET "+v.path+"/docs", func(w http.ResponseWriter, r *http.Request) {
			renderPage(w, r, apiPage, map[string]string{"Version": v.n, "Spec": v.path + "/openapi.json"})
		})
	}
	mux.HandleFunc("GET /docs/events", func(w http.ResponseWriter, r *http.Request) {
		doc, err := eventsDocument()
		if err != nil {
			internalError(w, r, fmt.Errorf("events schema: %w", err))
			return
		}
		renderPage(w, r, eventsPage, doc)
	})
	mux.HandleFunc("GET /docs/events.schema.json", func(w http.ResponseWriter, r *http.Request) {
		b, err := EventsSchema()
		if err != nil {
			internalError(w, r, fmt.Errorf("events schema: %w", err))
			return
		}
		w.Header().Set("Content-Type", "application/schema+json")
		_, _ = w.Write(b)
	})
}

func renderPage(w http.ResponseWriter, r *http.Request, t *template.Template, data any) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		internalError(w, r, fmt.Errorf("render %s: %w", t.Name(), err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	// Everything a page loads comes from this server (the tests check the pages for outside hosts);
	// the policy makes a browser refuse anything else too.
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'")
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// internalError answers 500 INTERNAL_ERROR in the JSON error shape, like every other error; the cause
// goes to the log (with the request id), not to the client.
func internalError(w http.ResponseWriter, r *http.Request, err error) {
	apierr.Write(w, r, apierr.FromError(r.Context(), r.URL.Path, err))
}

const pageHead = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/assets/docs.css">`

const pageNav = `<header class="maestro"><strong>Maestro Server</strong>
<a href="/docs">Docs</a><a href="/api/v1/docs">API v1</a><a href="/api/v2/docs">API v2</a><a href="/docs/events">WebSocket events</a></header>`

var indexPage = template.Must(template.New("index").Parse(pageHead + `
<title>Maestro Server docs</title>
</head>
<body>
` + pageNav + `
<main>
<h1>Maestro Server documentation</h1>
<p>Everything here is served by this server from its own binary; it works without a network.</p>
<table>
<tr><th>Document</th><th>What it covers</th><th>Machine-readable</th></tr>
<tr><td><a href="/api/v1/docs">API v1</a></td><td>The predecessor's wire contract ({{.V1Ops}} operations), served at <code>/api/v1/...</code> and the unversioned <code>/api/...</code>; legacy error shape.</td>
<td><a href="/api/v1/openapi.json">openapi.json</a> · <a href="/api/v1/openapi.yaml">openapi.yaml</a></td></tr>
<tr><td><a href="/api/v2/docs">API v2</a></td><td>Paginated, strict API ({{.V2Ops}} operations) with RFC 9457 problem+json errors; also the admin operations.</td>
<td><a href="/api/v2/openapi.json">openapi.json</a> · <a href="/api/v2/openapi.yaml">openapi.yaml</a></td></tr>
<tr><td><a href="/docs/events">WebSocket events</a></td><td>Every event the server broadcasts ({{.Events}} types): its payload and what emits it.</td>
<td><a href="/docs/events.schema.json">events.schema.json</a></td></tr>
</table>
<h2>Operations endpoints</h2>
<ul>
<li><code>/health</code> (v1 shape plus components), <code>/healthz</code> (liveness), <code>/readyz</code> (readiness) — open without a token.</li>
<li><code>/metrics</code> — Prometheus text format.</li>
</ul>
</main>
</body>
</html>
`))

var apiPage = template.Must(template.New("api").Parse(pageHead + `
<link rel="stylesheet" href="/docs/assets/swagger-ui/swagger-ui.css">
<title>Maestro Server API v{{.Version}}</title>
</head>
<body>
` + pageNav + `
<div id="swagger-ui" data-spec="{{.Spec}}"></div>
<script src="/docs/assets/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs-init.js"></script>
</body>
</html>
`))

var eventsPage = template.Must(template.New("events").Parse(pageHead + `
<title>Maestro Server WebSocket events</title>
</head>
<body>
` + pageNav + `
<main>
<h1>WebSocket events</h1>
<p>Every change the server makes is recorded as an event in the same transaction and broadcast after it
commits, in <code>seq</code> order. The desktop UI's socket (an upgrade on any path, e.g.
<code>ws://127.0.0.1:3000</code>) receives the v1 envelope
<code>{"type":"event","event":TYPE,"data":PAYLOAD,"timestamp":MS,"seq":N}</code>; the v2 stream receives
<code>{"seq":N,"type":TYPE,"data":PAYLOAD,"timestamp":MS}</code>. Both accept <code>?since=SEQ</code> to replay
what was missed. The JSON Schema of every event is <a href="/docs/events.schema.json">events.schema.json</a>
(also <code>api/events.schema.json</code> in the repository).</p>
<table>
<tr><th>Event</th><th>Payload</th><th>Emitted by</th></tr>
{{range .Events}}<tr><td><a href="#{{.Type}}"><code>{{.Type}}</code></a></td><td><a href="#def-{{.Payload}}"><code>{{.Payload}}</code></a></td><td>{{.EmittedBy}}</td></tr>
{{end}}</table>
{{range .Events}}<section class="event" id="{{.Type}}">
<h2><code>{{.Type}}</code></h2>
<p><strong>Emitted by:</strong> {{.EmittedBy}}</p>
<p><strong>Payload</strong> (<code>data</code>): <a href="#def-{{.Payload}}"><code>{{.Payload}}</code></a></p>
</section>
{{end}}
<h2>Payload schemas</h2>
{{range .Defs}}<section class="event" id="def-{{.Name}}">
<h3><code>{{.Name}}</code></h3>
<pre>{{.JSON}}</pre>
</section>
{{end}}
</main>
</body>
</html>
`))

// eventDoc is one row of the events page.
type eventDoc struct {
	Type      string
	Payload   string
	EmittedBy string
}

// defDoc is one payload schema of the events page.
type defDoc struct {
	Name string
	JSON string
}

// eventsDoc is the data of the events page.
type eventsDoc struct {
	Events []eventDoc
	Defs   []defDoc
}

var eventsDocOnce = sync.OnceValues(func() (eventsDoc, error) {
	s, err := buildEventsSchema()
	if err != nil {
		return eventsDoc{}, err
	}
	var doc eventsDoc
	for _, e := range s.events {
		doc.Events = append(doc.Events, eventDoc{Type: e.Type, Payload: e.payload, EmittedBy: e.EmittedBy})
	}
	names := make([]string, 0, len(s.payloadDefs))
	for n := range s.payloadDefs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := json.MarshalIndent(s.payloadDefs[n], "", "  ")
		if err != nil {
			return eventsDoc{}, err
		}
		doc.Defs = append(doc.Defs, defDoc{Name: n, JSON: strings.TrimSpace(string(b))})
	}
	return doc, nil
})

func eventsDocument() (eventsDoc, error) { return eventsDocOnce() }
