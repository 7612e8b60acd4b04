package store

import (
	"context"
	"errors"
	"testing"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// TestMapErr feeds real driver errors through mapErr: the classification comes from SQLite's result
// codes, so a reworded message can never change it.
func TestMapErr(t *testing.T) {
	t.Parallel()
	st, err := Open(context.Background(), Options{Path: t.TempDir() + "/m.db", NoBackup: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	exec := func(q string) error { _, err := st.w.Exec(q); return err }
	if err := exec("INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'n', 1, 1)"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, sql string
		want      error
	}{
		{"unique", "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('p', 'n', 1, 1)", ErrUnique},
		{"foreign key", "INSERT INTO sessions (id, project_id, name, started_at, last_activity) VALUES ('s', 'nope', 'n', 1, 1)", ErrForeignKey},
		{"check", "INSERT INTO templates (id, name, role, content, created_at, updated_at) VALUES ('t', 'n', 'admin', 'c', 1, 1)", ErrCheck},
		{"not null", "INSERT INTO projects (id, name, created_at, updated_at) VALUES ('q', NULL, 1, 1)", ErrCheck},
		{"json check", "INSERT INTO events (type, payload, created_at) VALUES ('x', '{not json', 1)", ErrCheck},
	}
	for _, c := range cases {
		err := mapErr(exec(c.sql))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: mapErr = %v, want %v", c.name, err, c.want)
		}
	}

	// A full disk, simulated by capping the file size: SQLITE_FULL is a storage failure.
	if err := exec("PRAGMA max_page_count = 1"); err != nil {
		t.Fatal(err)
	}
	err = mapErr(exec("INSERT INTO events (type, payload, created_at) VALUES ('x', json_array(hex(randomblob(100000))), 1)"))
	if !errors.Is(err, ErrStorage) {
		t.Errorf("disk full: mapErr = %v, want ErrStorage", err)
	}
}

func TestDomainErr(t *testing.T) {
	t.Parallel()
	full := &dbError{ErrStorage, errors.New("disk full")}
	if got := maestro.ErrorCode(domainErr(full)); got != maestro.CodeStorageDown {
		t.Errorf("storage failure → %s", got)
	}
	busy := &dbError{ErrBusy, errors.New("locked")}
	if got := maestro.ErrorCode(domainErr(busy)); got != maestro.CodeOverloaded {
		t.Errorf("busy → %s", got)
	}
	if !IsStorageFailure(full) || IsStorageFailure(busy) {
		t.Error("IsStorageFailure misclassifies")
	}
	plain := errors.New("x")
	if domainErr(plain) != plain {
		t.Error("other errors must pass through")
	}
}
