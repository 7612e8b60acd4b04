package httpapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// The robustness walk (issue 9): every operation of api/openapi-v1.yaml and api/openapi-v2.yaml gets
// hostile variants of its request — malformed JSON, wrong types, 1 MB strings, deep nesting, NUL, lone
// surrogates, huge numbers, "../" in path parameters, no or a foreign Content-Type, a foreign Origin, a
// foreign Host — and must answer each without a 5xx (a panic is a 500), with a JSON error carrying a
// message, and without storing anything when it refuses.

// hostileOp is one operation of an OpenAPI document.
type hostileOp struct {
	v      int
	method string
	path   string // template, e.g. /api/v2/tasks/{id}
	op     *huma.Operation
	reg    huma.Registry
}

// documentedOps lists every operation of both versions, as the server documents them (the documents
// in api/ are generated from the same, and make check keeps them equal).
func documentedOps(t *testing.T) []hostileOp {
	t.Helper()
	srv := httpapi.New(httpapi.Options{Services: &service.Services{}})
	var out []hostileOp
	for v, api := range map[int]huma.API{1: srv.V1(), 2: srv.V2()} {
		oapi := api.OpenAPI()
		for path, item := range oapi.Paths {
			for _, op := range []*huma.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
				if op != nil {
					out = append(out, hostileOp{v: v, method: op.Method, path: path, op: op, reg: oapi.Components.Schemas})
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].method+out[i].path < out[j].method+out[j].path })
	// The documents on disk list the same operations.
	n := 0
	for _, f := range []string{"../../api/openapi-v1.yaml", "../../api/openapi-v2.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += len(regexp.MustCompile(`(?m)^      operationId: `).FindAll(b, -1))
	}
	if n != len(out) {
		t.Fatalf("api/*.yaml has %d operations, the server %d: run make openapi", n, len(out))
	}
	return out
}

// fixtures are the records path parameters name.
type fixtures struct{ project, task, session, template string }

func makeFixtures(t *testing.T, env *apitest.Env) fixtures {
	t.Helper()
	p := env.Project("hostile")
	task := env.Task(p.ID, maestro.TaskCreate{Title: "t"})
	s := env.Do("POST", "/api/sessions", map[string]any{"projectId": p.ID, "taskIds": []string{task.ID}, "metadata": map[string]any{"a": 1}})
	tpl := env.Do("POST", "/api/templates", map[string]any{"name": "tpl", "role": "worker", "content": "c"})
	if s.Status != 201 || tpl.Status != 201 {
		t.Fatalf("fixtures: %d %s / %d %s", s.Status, s.Body, tpl.Status, tpl.Body)
	}
	return fixtures{project: p.ID, task: task.ID, session: s.Object(t)["id"].(string), template: tpl.Object(t)["id"].(string)}
}

var pathParam = regexp.MustCompile(`\{([A-Za-z]+)\}`)

// fill replaces the path parameters of tmpl by the fixtures' ids, or every one by hostile when set.
func (f fixtures) fill(tmpl, hostile string) string {
	segs := strings.Split(tmpl, "/")
	for i, s := range segs {
		m := pathParam.FindStringSubmatch(s)
		if m == nil {
			continue
		}
		if hostile != "" {
			segs[i] = hostile
			continue
		}
		prev := segs[i-1]
		switch {
		case m[1] == "taskId":
			segs[i] = f.task
		case m[1] == "role":
			segs[i] = "worker"
		case m[1] == "key":
			segs[i] = "ws-replay"
		case prev == "projects":
			segs[i] = f.project
		case prev == "tasks":
			segs[i] = f.task
		case prev == "sessions":
			segs[i] = f.session
		case prev == "templates":
			segs[i] = f.template
		default:
			segs[i] = "some-id"
		}
	}
	return strings.Join(segs, "/")
}

// fingerprintQuery sums up what is stored, but the audit log (refused requests are audited on purpose):
// the rows of every table, and the newest event (every change of an entity publishes one).
var fingerprintQuery = func() string {
	var parts []string
	for _, table := range []string{"projects", "tasks", "sessions", "task_sessions", "session_events", "session_timeline",
		"queues", "queue_items", "templates", "events", "feature_flags", "idempotency_keys"} {
		parts = append(parts, "(SELECT count(*) FROM "+table+")")
	}
	parts = append(parts, "(SELECT coalesce(max(seq), 0) FROM events)")
	return "SELECT " + strings.Join(parts, " || ',' || ")
}()

// fingerprint returns fingerprintQuery's answer.
func fingerprint(t *testing.T, db *sql.DB) string {
	t.Helper()
	var fp string
	if err := db.QueryRow(fingerprintQuery).Scan(&fp); err != nil {
		t.Fatal(err)
	}
	return fp
}

// bodyProps returns the request body schema's properties by name, resolved, or nil.
func (o hostileOp) bodyProps() map[string]*huma.Schema {
	if o.op.RequestBody == nil {
		return nil
	}
	mt := o.op.RequestBody.Content["application/json"]
	if mt == nil || mt.Schema == nil {
		return nil
	}
	s := mt.Schema
	if s.Ref != "" {
		s = o.reg.SchemaFromRef(s.Ref)
	}
	out := map[string]*huma.Schema{}
	for k, p := range s.Properties {
		if p.Ref != "" {
			p = o.reg.SchemaFromRef(p.Ref)
		}
		out[k] = p
	}
	return out
}

// variant is one hostile request.
type variant struct {
	name    string
	path    string
	body    string
	headers []string // name, value pairs; "Host" sets the Host
	noCT    bool     // send no Content-Type
	want    int      // the status required, 0 for "any 4xx or 2xx"
}

// deepJSON nests n arrays.
func deepJSON(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }

// variants builds the hostile requests of o.
func (o hostileOp) variants(f fixtures) []variant {
	path := f.fill(o.path, "")
	unsafe := o.method != http.MethodGet && o.method != http.MethodHead
	props := o.bodyProps()
	var vs []variant
	vs = append(vs,
		variant{name: "foreign Host", path: path, headers: []string{"Host", "evil.example"}, want: 403},
		variant{name: "huge and hostile query", path: path + "?limit=1e400&cursor=%00%ff%fe&since=99999999999999999999999&updatedSince=-1e400&total=maybe&q=%ED%A0%80&status=%00&sort=../x&ids=bogus"},
	)
	if pathParam.MatchString(o.path) {
		for _, h := range []string{"..", "..%2F..%2Fetc%2Fpasswd", "%2E%2E", "a%00b", "%ED%A0%80", strings.Repeat("x", 5000)} {
			vs = append(vs, variant{name: "path param " + h[:min(len(h), 20)], path: f.fill(o.path, h)})
		}
	}
	if unsafe {
		vs = append(vs, variant{name: "foreign Origin", path: path, body: "{}", headers: []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, want: 403})
	}
	if props == nil {
		return vs
	}
	obj := func(val func(name string, s *huma.Schema) (string, bool)) string {
		var parts []string
		names := make([]string, 0, len(props))
		for k := range props {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if v, ok := val(k, props[k]); ok {
				parts = append(parts, fmt.Sprintf("%q:%s", k, v))
			}
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	isType := func(s *huma.Schema, typ string) bool { return s != nil && s.Type == typ }
	mb := `"` + strings.Repeat("x", 1_000_000) + `"`
	vs = append(vs,
		variant{name: "malformed JSON", path: path, body: `{"a":`},
		variant{name: "not an object", path: path, body: `[1,2,3]`},
		variant{name: "no Content-Type", path: path, body: "{}", noCT: true, want: 415},
		variant{name: "text/plain", path: path, body: "{}", headers: []string{"Content-Type", "text/plain"}, want: 415},
		variant{name: "wrong types", path: path, body: obj(func(_ string, s *huma.Schema) (string, bool) {
			if isType(s, "string") {
				return "[1]", true
			}
			return `"wrong"`, true
		})},
		// One string member of 1 MB (the first, or an unknown one): more would be over the body limit.
		variant{name: "1 MB string", path: path, body: func() string {
			done := false
			b := obj(func(_ string, s *huma.Schema) (string, bool) {
				if done || !isType(s, "string") {
					return "", false
				}
				done = true
				return mb, true
			})
			if !done {
				b = `{"zz":` + mb + `}`
			}
			return b
		}()},
		variant{name: "deep nesting", path: path, body: obj(func(_ string, s *huma.Schema) (string, bool) {
			return deepJSON(3000), !isType(s, "string") && !isType(s, "integer") && !isType(s, "boolean")
		})},
		variant{name: "deep body", path: path, body: `{"a":` + deepJSON(20000) + `}`},
		variant{name: "NUL", path: path, body: obj(func(_ string, s *huma.Schema) (string, bool) {
			return `"a\u0000b"`, isType(s, "string")
		})},
		variant{name: "lone surrogate", path: path, body: obj(func(_ string, s *huma.Schema) (string, bool) {
			return `"\ud800x"`, isType(s, "string")
		})},
		variant{name: "raw invalid UTF-8", path: path, body: obj(func(_ string, s *huma.Schema) (string, bool) {
			return "\"\xff\xfe\"", isType(s, "string")
		})},
		variant{name: "huge numbers", path: path, body: obj(func(_ string, s *huma.Schema) (string, bool) {
			return "1e400", isType(s, "integer") || isType(s, "number")
		})},
		variant{name: "huge integers", path: path, body: obj(func(_ string, s *huma.Schema) (string, bool) {
			return "123456789012345678901234567890", isType(s, "integer") || isType(s, "number")
		})},
		variant{name: "nulls", path: path, body: obj(func(string, *huma.Schema) (string, bool) { return "null", true })},
	)
	return vs
}

func TestRobustness_everyOperation(t *testing.T) {
	t.Parallel()
	ops := documentedOps(t)
	if len(ops) < 80 {
		t.Fatalf("only %d operations found", len(ops))
	}
	// Each operation gets fresh fixtures (a DELETE removes only its own), and the operations sharing a
	// server run one after the other, so that the fingerprint sees only the changes of the one it checks.
	// Each version's operations are split over a few servers, which run in parallel.
	const shards = 3
	for _, v := range []int{1, 2} {
		for shard := range shards {
			t.Run(fmt.Sprintf("v%d-%d", v, shard), func(t *testing.T) {
				t.Parallel()
				env := apitest.New(t)
				db, err := sql.Open("sqlite", store.DSN(env.Store.Path()))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				for i, o := range ops {
					if o.v == v && i%shards == shard {
						t.Run(o.method+" "+o.path, func(t *testing.T) { walkOperation(t, env, db, o) })
					}
				}
			})
		}
	}
}

// walkOperation sends every hostile variant of o to env (see TestRobustness_everyOperation).
func walkOperation(t *testing.T, env *apitest.Env, db *sql.DB, o hostileOp) {
	f := makeFixtures(t, env)
	for _, v := range o.variants(f) {
		before := fingerprint(t, db)
		req := httptest.NewRequestWithContext(context.Background(), o.method, v.path, strings.NewReader(v.body))
		if v.body == "" {
			req = httptest.NewRequestWithContext(context.Background(), o.method, v.path, nil)
		}
		if !v.noCT {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(v.headers); i += 2 {
			if v.headers[i] == "Host" {
				req.Host = v.headers[i+1]
			} else {
				req.Header.Set(v.headers[i], v.headers[i+1])
			}
		}
		w := httptest.NewRecorder()
		env.Handler.ServeHTTP(w, req)
		r := &apitest.Response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
		if r.Status >= 500 {
			t.Errorf("%s: %d %.400s", v.name, r.Status, r.Body)
			continue
		}
		if v.want != 0 && r.Status != v.want {
			t.Errorf("%s: %d, want %d: %.300s", v.name, r.Status, v.want, r.Body)
		}
		if r.Status < 400 {
			continue
		}
		var body map[string]any
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Errorf("%s: %d error is not a JSON object: %.200s", v.name, r.Status, r.Body)
			continue
		}
		msg, _ := body["message"].(string)
		if o.v == 2 {
			msg, _ = body["detail"].(string)
		}
		if msg == "" {
			t.Errorf("%s: %d error without a message: %.300s", v.name, r.Status, r.Body)
		}
		if after := fingerprint(t, db); after != before {
			t.Errorf("%s: refused with %d but the database changed", v.name, r.Status)
		}
	}
}
