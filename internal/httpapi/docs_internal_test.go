package httpapi

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// TestRenderPage_failureIsAJSONInternalError: a page that fails to render answers 500 INTERNAL_ERROR in
// the JSON error shape like every other error, without the template's error text.
func TestRenderPage_failureIsAJSONInternalError(t *testing.T) {
	t.Parallel()
	fail := func() (string, error) { return "", errors.New("secret internals") }
	broken := template.Must(template.New("broken").Funcs(template.FuncMap{"fail": fail}).Parse(`{{fail}}`))
	w := httptest.NewRecorder()
	renderPage(w, httptest.NewRequest("GET", "/docs", nil), broken, map[string]any{})
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || w.Code != 500 || body["code"] != "INTERNAL_ERROR" {
		t.Fatalf("%d %v %s", w.Code, w.Header(), w.Body)
	}
	if strings.Contains(w.Body.String(), "secret internals") {
		t.Fatalf("the render error reached the client: %s", w.Body)
	}
}

// TestDescribeMembers checks that payload member descriptions land on the schema and that one naming a
// schema or member that does not exist fails the generation instead of going stale.
func TestDescribeMembers(t *testing.T) {
	t.Parallel()
	defs := func() map[string]*huma.Schema {
		return map[string]*huma.Schema{"P": {Properties: map[string]*huma.Schema{"m": {Type: "string"}}}}
	}
	d := defs()
	if err := describeMembers(d, map[string]map[string]string{"P": {"m": "what m is"}}); err != nil || d["P"].Properties["m"].Description != "what m is" {
		t.Fatalf("describe: %v, %+v", err, d["P"].Properties["m"])
	}
	for _, stale := range []map[string]map[string]string{{"Q": {"m": "x"}}, {"P": {"gone": "x"}}} {
		if err := describeMembers(defs(), stale); err == nil {
			t.Errorf("%v described without an error", stale)
		}
	}
}
