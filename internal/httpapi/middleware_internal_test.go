package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRecoverPanics(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := requestID(recoverPanics(log, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("kaboom")
	})))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/api/tasks", nil))
	if w.Code != 500 {
		t.Fatalf("status %d", w.Code)
	}
	var b map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
		t.Fatal(err)
	}
	if b["code"] != "INTERNAL_ERROR" || b["message"] != "internal error" || b["requestId"] != w.Header().Get("X-Request-ID") {
		t.Fatalf("body %v", b)
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), w.Header().Get("X-Request-ID")) {
		t.Fatalf("panic not logged with the request id: %s", logs.String())
	}
}
