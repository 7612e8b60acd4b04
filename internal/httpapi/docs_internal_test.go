package httpapi

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http/httptest"
	"strings"
	"testing"
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
