package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
)

// Native fuzz targets for request decoding (issue 9). Their seed corpus runs with every `go test`;
// `make fuzz` runs each for a bounded time (FUZZTIME). Each input goes through the whole handler chain
// of a real server over a fresh database, and must get an answer below 500 — a panic is a 500 — whose
// error, if it is one, is a JSON object with a message.

// fuzzOp is an operation a fuzz target sends its input to; {p}, {t}, {s} and {tpl} stand for the ids of
// the fixtures.
type fuzzOp struct{ method, path string }

var (
	fuzzV1Ops = []fuzzOp{
		{"POST", "/api/projects"}, {"PUT", "/api/projects/{p}"}, {"POST", "/api/tasks"}, {"PATCH", "/api/tasks/{t}"},
		{"POST", "/api/sessions"}, {"PATCH", "/api/sessions/{s}"}, {"POST", "/api/sessions/spawn"},
		{"POST", "/api/sessions/{s}/events"}, {"POST", "/api/sessions/{s}/timeline"}, {"POST", "/api/sessions/{s}/queue/push"},
		{"POST", "/api/templates"}, {"PUT", "/api/templates/{tpl}"}, {"POST", "/api/tasks/{t}/timeline"},
	}
	fuzzV2Ops = []fuzzOp{
		{"POST", "/api/v2/projects"}, {"PATCH", "/api/v2/projects/{p}"}, {"POST", "/api/v2/tasks"}, {"PATCH", "/api/v2/tasks/{t}"},
		{"POST", "/api/v2/sessions"}, {"PATCH", "/api/v2/sessions/{s}"}, {"POST", "/api/v2/sessions/spawn"},
		{"POST", "/api/v2/sessions/{s}/events"}, {"POST", "/api/v2/sessions/{s}/timeline"}, {"POST", "/api/v2/sessions/{s}/queue/push"},
		{"POST", "/api/v2/templates"}, {"PATCH", "/api/v2/templates/{tpl}"}, {"POST", "/api/v2/projects/import"},
		{"PUT", "/api/v2/flags/ws-replay"},
	}
	fuzzListPaths = []string{
		"/api/projects", "/api/tasks", "/api/sessions", "/api/templates", "/api/skills", "/api/tasks/{t}/children",
		"/api/v2/projects", "/api/v2/tasks", "/api/v2/sessions", "/api/v2/templates",
		"/api/v2/sessions/{s}/timeline", "/api/v2/sessions/{s}/events", "/api/v2/sessions/{s}/queue/items", "/api/v2/admin/audit",
	}
)

// fuzzEnv is a server with fixtures for the fuzz targets.
type fuzzEnv struct {
	env *apitest.Env
	ids *strings.Replacer
	pID string
	tID string
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	env := apitest.New(f)
	p := env.Project("fuzz")
	task := env.Do("POST", "/api/tasks", map[string]any{"projectId": p.ID, "title": "t"}).Object(f)["id"].(string)
	s := env.Do("POST", "/api/sessions", map[string]any{"projectId": p.ID, "taskIds": []string{task}}).Object(f)["id"].(string)
	tpl := env.Do("POST", "/api/templates", map[string]any{"name": "tpl", "role": "worker", "content": "c"}).Object(f)["id"].(string)
	return &fuzzEnv{env: env, pID: p.ID, tID: task, ids: strings.NewReplacer("{p}", p.ID, "{t}", task, "{s}", s, "{tpl}", tpl)}
}

// check sends one request and fails on a 5xx or an error without a JSON message.
func (fe *fuzzEnv) check(t *testing.T, method, target string, body []byte, v2 bool) {
	req := httptest.NewRequestWithContext(context.Background(), method, target, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	fe.env.Handler.ServeHTTP(w, req)
	if w.Code >= 500 {
		t.Fatalf("%s %s %q: %d %s", method, target, body, w.Code, w.Body.Bytes())
	}
	if w.Code < 400 {
		return
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s %s %q: %d error is not JSON: %s", method, target, body, w.Code, w.Body.Bytes())
	}
	msg, _ := m["message"].(string)
	if v2 {
		msg, _ = m["detail"].(string)
	}
	if msg == "" {
		t.Fatalf("%s %s %q: %d error without a message: %s", method, target, body, w.Code, w.Body.Bytes())
	}
}

// bodySeeds are bodies every body target starts from.
func bodySeeds(projectID, taskID string) []string {
	return []string{
		`{}`, `{"a":`, `[]`, `null`, `"x"`, `1e400`,
		`{"name":"p","workingDir":"/tmp/p","description":"d"}`,
		`{"projectId":"` + projectID + `","title":"t","priority":"high","skillIds":["a"],"dependencies":[]}`,
		`{"title":null,"status":"in_progress","sessionStatus":"working","updateSource":"session"}`,
		`{"projectId":"` + projectID + `","taskIds":["` + taskID + `"],"metadata":{"k":[1,{"x":null}]},"env":{"A":"b"}}`,
		`{"projectId":"` + projectID + `","taskIds":["` + taskID + `"],"spawnSource":"ui","role":"worker","strategy":"queue","context":{"a":1}}`,
		`{"type":"progress","data":{"file":"x.go"},"message":"m","metadata":{"a":"\u0000\ud800"}}`,
		`{"status":"completed","timeline":[{"type":"note"}],"events":[{}],"taskIds":[]}`,
		`{"name":"tpl","role":"orchestrator","content":"c"}`, `{"enabled":true}`, `{"taskId":"` + taskID + `"}`,
		`{"format":"maestro.project-export","version":1,"project":{"id":"p","name":"x"},"tasks":[{"id":"t","title":"t","parentId":"t"}]}`,
		`{"metadata":` + nested(70) + `}`, `{"name":"` + strings.Repeat("é", 300) + `"}`,
		`{"priority":123456789012345678901234567890,"limit":-1}`,
	}
}

func fuzzBodies(f *testing.F, ops []fuzzOp, v2 bool) {
	fe := newFuzzEnv(f)
	for i := range ops {
		for _, b := range bodySeeds(fe.pID, fe.tID) {
			f.Add(uint8(i), []byte(b))
		}
	}
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		o := ops[int(op)%len(ops)]
		fe.check(t, o.method, fe.ids.Replace(o.path), body, v2)
	})
}

// FuzzV1Body decodes arbitrary bodies on the main v1 create and update operations.
func FuzzV1Body(f *testing.F) { fuzzBodies(f, fuzzV1Ops, false) }

// FuzzV2Body decodes arbitrary bodies on the main v2 create and update operations.
func FuzzV2Body(f *testing.F) { fuzzBodies(f, fuzzV2Ops, true) }

// FuzzQuery decodes arbitrary query strings on the list operations of both versions.
func FuzzQuery(f *testing.F) {
	fe := newFuzzEnv(f)
	for i := range fuzzListPaths {
		for _, q := range []string{"", "limit=5", "limit=0", "limit=1e400", "cursor=%00%ff", "cursor=eyJ4IjoxfQ",
			"status=todo&status=%ED%A0%80", "priority=x&sort=-priority", "q=foo%22bar*&sort=relevance",
			"updatedSince=99999999999999999999", "since=-1", "total=true&root=true&parentId=..%2F", "projectId=" + fe.pID,
			"type=%00&sort=-appended", "active=maybe", "%zz", "a=%", strings.Repeat("x=1&", 500)} {
			f.Add(uint8(i), q)
		}
	}
	f.Fuzz(func(t *testing.T, i uint8, query string) {
		path := fe.ids.Replace(fuzzListPaths[int(i)%len(fuzzListPaths)])
		// A request line net/http would refuse before any handler is not what is tested here.
		if strings.ContainsAny(query, " #\r\n\t\x00") || strings.ContainsFunc(query, func(r rune) bool { return r < 0x20 || r >= 0x7f }) {
			query = url.QueryEscape(query)
		}
		fe.check(t, "GET", path+"?"+query, nil, strings.HasPrefix(path, "/api/v2"))
	})
}
