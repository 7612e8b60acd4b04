package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/httpapi"
)

// TestRedaction_secretsNeverLogged plants secrets (the API token, a wrong token a client sent, a
// Sentry DSN key, a session environment value, credentials in URLs and a DSN query string), drives
// requests and log paths that touch them — authorised and refused requests, ?token= in URLs, a careless
// debug line, an internal error and a panic whose messages contain them — and then searches everything
// the server logged and everything it sent to (fake) Sentry for them.
func TestRedaction_secretsNeverLogged(t *testing.T) {
	t.Parallel()
	const (
		token      = "planted-api-token-0123456789"
		wrongToken = "planted-wrong-token-987654321"
		sentryKey  = "plantedsentrykey0123"
	)
	fake := newFakeSentry(t)
	tr := fake.tracker(t, sentryKey, token)
	env := newObsEnv(t, []string{token, fake.DSN(sentryKey)}, func(o *httpapi.Options) {
		o.APIToken = token
		o.WebSocket = testUpgradeHandler(token)
		o.Tracker = tr
	})
	auth := "Bearer " + token
	calls := []struct {
		method, path string
		headers      []string
		status       int
	}{
		{"GET", "/api/projects", []string{"Authorization", auth}, 200},
		{"GET", "/api/projects", []string{"Authorization", "Bearer " + wrongToken}, 401},
		{"GET", "/api/projects?token=" + token, nil, 401},
		{"POST", "/api/projects?token=" + wrongToken, []string{"Authorization", auth}, 400},
		{"GET", "/ws?token=" + wrongToken, upgradeHeaders("X-Test", "log", "Authorization", "Bearer "+token), 204},
		{"GET", "/ws?token=" + token, upgradeHeaders("X-Test", "fail"), 500},
		{"GET", "/ws?token=" + token, upgradeHeaders("X-Test", "panic"), 500},
	}
	for _, c := range calls {
		// Upgrades pass the token check (header first, then ?token=), so the planted secrets in the
		// header and the query reach the handler as a real client's would.
		if r := env.Do(c.method, c.path, `{"name":`, c.headers...); r.Status != c.status {
			t.Fatalf("%s %s: %d, want %d: %s", c.method, c.path, r.Status, c.status, r.Body)
		}
	}
	if !tr.Flush(5 * time.Second) {
		t.Fatal("error reports not delivered")
	}
	logs := env.Logs.String()
	reports := strings.Join(fake.Envelopes(), "\n")
	if !strings.Contains(logs, "careless debug line") || !strings.Contains(logs, "panic serving request") ||
		!strings.Contains(logs, "request failed") {
		t.Fatalf("the log paths under test did not run:\n%s", logs)
	}
	if !strings.Contains(reports, `"type":"panic"`) {
		t.Fatalf("the panic was not reported:\n%s", reports)
	}
	for _, secret := range []string{token, wrongToken, sentryKey, "sk-env-" + token} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q:\n%s", secret, logs)
		}
		// The envelope header names the DSN's public key by design (Sentry authenticates with it);
		// every other occurrence is a leak.
		if secret != sentryKey && strings.Contains(reports, secret) {
			t.Errorf("an error report contains %q:\n%s", secret, reports)
		}
	}
	if strings.Contains(reports, "Authorization") || strings.Contains(strings.ToLower(reports), "cookie") {
		t.Errorf("an error report carries credentials headers:\n%s", reports)
	}
}
