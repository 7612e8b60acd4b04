package service_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/apitest"
	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/maestro-hq/maestro-server/internal/store"
)

func backupsOver(t *testing.T, keep int) (*service.Services, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "backups")
	st := dbtest.New(t, func(o *store.Options) { o.BackupDir, o.BackupKeep = dir, keep })
	return service.New(st, service.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}), dir
}

// TestBackups_Run: scheduled backups keep exactly BACKUP_KEEP files, newest last.
func TestBackups_Run(t *testing.T) {
	t.Parallel()
	svcs, dir := backupsOver(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		svcs.Backups.Run(ctx, 5*time.Millisecond)
	}()
	ok := apitest.Eventually(t, 30*time.Second, func() bool { return svcs.Backups.Succeeded() >= 6 })
	cancel()
	<-done
	if !ok {
		t.Fatalf("only %d scheduled backups ran", svcs.Backups.Succeeded())
	}
	files, err := store.ListBackups(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 3 {
		t.Fatalf("%d backup files after %d backups, want exactly BACKUP_KEEP=3: %v", len(files), svcs.Backups.Succeeded(), files)
	}
	for _, f := range files {
		if c, err := store.CheckFile(context.Background(), f); err != nil || c.Integrity != "ok" {
			t.Errorf("%s: %+v %v", f, c, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 3 {
		t.Errorf("the backups directory holds %d files, want only the 3 backups", len(entries))
	}
	if svcs.Backups.Failed() != 0 || svcs.Backups.LastSuccess().IsZero() || svcs.Backups.Health().Status != maestro.HealthOK {
		t.Errorf("failed %d, last success %v, health %+v", svcs.Backups.Failed(), svcs.Backups.LastSuccess(), svcs.Backups.Health())
	}
}

// TestBackups_Health: a failed backup makes the component degraded until the next success.
func TestBackups_Health(t *testing.T) {
	t.Parallel()
	svcs, dir := backupsOver(t, 7)
	ctx := context.Background()
	// A file where the directory should be makes the backup fail.
	if err := os.WriteFile(dir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := svcs.Backups.Take(ctx, store.BackupManual); err == nil {
		t.Fatal("backup into a file path succeeded")
	}
	if h := svcs.Backups.Health(); h.Status != maestro.HealthDegraded || h.Reason == "" || svcs.Backups.Failed() != 1 {
		t.Fatalf("after a failure: %+v, failed %d", h, svcs.Backups.Failed())
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	info, err := svcs.Backups.Take(ctx, store.BackupManual)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(info.Path) != dir || info.Integrity != "ok" {
		t.Errorf("backup %+v", info)
	}
	if h := svcs.Backups.Health(); h.Status != maestro.HealthOK || svcs.Backups.Succeeded() != 1 {
		t.Errorf("after a success: %+v", h)
	}
}
