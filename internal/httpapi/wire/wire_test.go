package wire_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TestLimitBody checks the per-operation body limit on both versions: a declared length over an
// operation's limit is refused with 413 and the limit in the message before anything is read, and an
// operation with a larger limit (the v2 import) is not held to the default one.
func TestLimitBody(t *testing.T) {
	t.Parallel()
	env := apitest.New(t)
	big := `{"name":"` + strings.Repeat("x", maestro.MaxBodyBytes) + `"}`
	for _, c := range []struct {
		path, code, message string
		status              int
	}{
		{"/api/v1/projects", "PAYLOAD_TOO_LARGE", "request body is larger than 1048576 bytes", http.StatusRequestEntityTooLarge},
		{"/api/v2/projects", "PAYLOAD_TOO_LARGE", "request body is larger than 1048576 bytes", http.StatusRequestEntityTooLarge},
		// Under its own 32 MiB limit the import reads the body, and refuses the document as invalid.
		{"/api/v2/projects/import", "VALIDATION_ERROR", "", http.StatusUnprocessableEntity},
	} {
		r := env.Do(http.MethodPost, c.path, big)
		b := r.Object(t)
		msg, _ := b["message"].(string)
		if msg == "" {
			msg, _ = b["detail"].(string)
		}
		if r.Status != c.status || b["code"] != c.code || (c.message != "" && msg != c.message) {
			t.Errorf("POST %s with %d bytes: %d %v %q, want %d %s %q", c.path, len(big), r.Status, b["code"], msg, c.status, c.code, c.message)
		}
	}
	if n := len(env.Outbox()); n != 0 {
		t.Fatalf("%d events after refused requests", n)
	}
}
