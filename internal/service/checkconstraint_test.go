package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
)

// TestCheckConstraintIsValidation: a value that passes the services but fails a CHECK of the schema
// (metadata nested 1,500 levels: valid JSON to Go, not to SQLite's json_valid) is the caller's fault — a
// VALIDATION_ERROR — never an internal error (issue 9: 39 such requests answered 500). Paths that do not
// go through the HTTP layer's depth limit, such as the import command, meet it this way.
func TestCheckConstraintIsValidation(t *testing.T) {
	t.Parallel()
	st := dbtest.New(t)
	svcs := service.New(st, service.Options{SessionDir: t.TempDir()})
	ctx := context.Background()
	p, err := svcs.Projects.Create(ctx, maestro.ProjectCreate{Name: "P", WorkingDir: "/tmp"})
	if err != nil {
		t.Fatal(err)
	}
	deep := json.RawMessage(strings.Repeat(`{"a":`, 1500) + "1" + strings.Repeat("}", 1500))
	_, err = svcs.Sessions.Create(ctx, maestro.SessionCreate{ProjectID: p.ID, TaskIDs: &[]string{}, Metadata: deep})
	if code := maestro.ErrorCode(err); code != maestro.CodeValidation {
		t.Fatalf("deep metadata: %v (code %s), want VALIDATION_ERROR", err, code)
	}
	if ss, _ := svcs.Sessions.List(ctx, maestro.SessionFilter{}); len(ss) != 0 {
		t.Fatalf("%d sessions stored", len(ss))
	}
}
