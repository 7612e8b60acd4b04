package v2_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/apitest"
)

// TestFlag_APIV2_EveryOperation: with api-v2 off, every v2 operation of the OpenAPI document but the
// flags, admin and health ones answers 404 FEATURE_DISABLED and changes nothing, so no new operation can
// forget the gate.
func TestFlag_APIV2_EveryOperation(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	if r := env.Do("PUT", "/api/v2/flags/api-v2", map[string]any{"enabled": false}); r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	seq := env.LastSeq()
	param := regexp.MustCompile(`\{[^}]+\}`)
	n := 0
	for path, item := range env.Server.V2().OpenAPI().Paths {
		if strings.HasPrefix(path, "/api/v2/flags") || strings.HasPrefix(path, "/api/v2/admin") || strings.HasPrefix(path, "/api/v2/health") {
			continue
		}
		for _, m := range []struct {
			method string
			op     *huma.Operation
		}{{"GET", item.Get}, {"POST", item.Post}, {"PUT", item.Put}, {"PATCH", item.Patch}, {"DELETE", item.Delete}} {
			if m.op == nil {
				continue
			}
			method := m.method
			n++
			p := problem(t, env.Do(method, param.ReplaceAllString(path, "x"), map[string]any{}), 404, "FEATURE_DISABLED")
			if d, _ := p["details"].(map[string]any); d["flag"] != "api-v2" {
				t.Errorf("%s %s: %v", method, path, p)
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d gated operations", n)
	}
	if env.LastSeq() != seq {
		t.Fatal("a gated operation recorded events")
	}
}
