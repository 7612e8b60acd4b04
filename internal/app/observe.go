package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/maestro-hq/maestro-server/internal/config"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/obs"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/maestro-hq/maestro-server/internal/store"
	"github.com/prometheus/client_golang/prometheus"
)

// registerStoreMetrics adds the collectors that read the database and the disk at scrape time:
// maestro_db_* (pools, size), maestro_disk_free_bytes, maestro_tasks / maestro_sessions (from the
// trigger-maintained entity_counts table, never a scan) and the audit writer's counters.
func registerStoreMetrics(reg prometheus.Registerer, st *store.Store, cfg *config.Config, svcs *service.Services) {
	reg.MustRegister(
		obs.NewDBCollector(func() map[string]sql.DBStats {
			w, r := st.PoolStats()
			return map[string]sql.DBStats{"writer": w, "reader": r}
		}, st.Path()),
		obs.NewDiskCollector(filepath.Dir(cfg.DBPath)),
		obs.NewEntityCollector(func(ctx context.Context) ([]obs.EntityCount, error) {
			rows, err := st.Read().EntityCounts(ctx)
			if err != nil {
				return nil, err
			}
			out := make([]obs.EntityCount, len(rows))
			for i, r := range rows {
				out[i] = obs.EntityCount{Kind: r.Kind, Status: r.Status, N: r.N}
			}
			return out, nil
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: obs.Namespace, Name: "backups_total", ConstLabels: prometheus.Labels{"result": "success"},
			Help: "Backups into DATA_DIR/backups taken by this process (scheduled and API), by result.",
		}, func() float64 { return float64(svcs.Backups.Succeeded()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: obs.Namespace, Name: "backups_total", ConstLabels: prometheus.Labels{"result": "failure"},
			Help: "Backups into DATA_DIR/backups taken by this process (scheduled and API), by result.",
		}, func() float64 { return float64(svcs.Backups.Failed()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: obs.Namespace, Name: "backup_last_success_timestamp_seconds",
			Help: "When the last successful backup of this process started (Unix seconds; 0 before the first).",
		}, func() float64 {
			if t := svcs.Backups.LastSuccess(); !t.IsZero() {
				return float64(t.UnixMilli()) / 1000
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: obs.Namespace, Name: "audit_entries_written_total",
			Help: "Audit log entries stored.",
		}, func() float64 { return float64(svcs.Audit.Written()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: obs.Namespace, Name: "audit_entries_dropped_total",
			Help: "Audit log entries lost because the queue was full or their batch could not be written.",
		}, func() float64 { return float64(svcs.Audit.Dropped()) }),
	)
}

// readyChecks are what /readyz requires: the database takes a write lock, its schema is current, and
// its filesystem has at least READY_MIN_DISK_FREE_MB free.
func readyChecks(st *store.Store, cfg *config.Config) []httpapi.ReadyCheck {
	checks := []httpapi.ReadyCheck{
		{Name: "database", Check: st.CheckWritable},
		{Name: "migrations", Check: func(ctx context.Context) error {
			ok, cur, latest, err := st.MigrationsCurrent(ctx)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("schema is at version %d, this binary expects %d", cur, latest)
			}
			return nil
		}},
	}
	if cfg.ReadyMinDiskFreeMB > 0 {
		dir := filepath.Dir(cfg.DBPath)
		need := uint64(cfg.ReadyMinDiskFreeMB) << 20
		checks = append(checks, httpapi.ReadyCheck{Name: "disk", Check: func(context.Context) error {
			free, err := obs.DiskFree(dir)
			if err != nil {
				return err
			}
			if free < need {
				return fmt.Errorf("%d MiB free on the database's filesystem, below READY_MIN_DISK_FREE_MB=%d", free>>20, cfg.ReadyMinDiskFreeMB)
			}
			return nil
		}})
	}
	return checks
}

// watchSIGHUP reloads the configuration on every SIGHUP until ctx ends; the returned function stops
// watching.
func watchSIGHUP(ctx context.Context, running *config.Config, logger *obs.Logger) func() {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-hup:
				reloadConfig(running, logger)
			case <-ctx.Done():
				return
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(hup)
		close(done)
	}
}

// reloadConfig re-reads the configuration (flags, environment, .env) as SIGHUP asks, applies what can
// change while running — the log level — and logs what changed, naming the settings that need a
// restart to take effect. An invalid configuration changes nothing: the problems are logged and the
// server keeps running as it was. running is the configuration the server started with; it is not
// modified, so every reload reports all differences from what is actually running.
func reloadConfig(running *config.Config, logger *obs.Logger) {
	log := logger.Logger
	next, err := running.Reload()
	if err != nil {
		var probs config.Problems
		if errors.As(err, &probs) {
			log.Error("SIGHUP: configuration is invalid; nothing changed", "problems", []string(probs))
		} else {
			log.Error("SIGHUP: configuration could not be read; nothing changed", "error", err)
		}
		return
	}
	changed := running.Changed(next)
	var needsRestart []string
	for _, name := range changed {
		if name != "LOG_LEVEL" {
			needsRestart = append(needsRestart, name)
		}
	}
	old, err := logger.SetLevel(next.LogLevel)
	if err != nil { // Load validated it; kept for safety
		log.Error("SIGHUP: log level not applied", "error", err)
		return
	}
	attrs := []any{"log_level", next.LogLevel, "previous_log_level", obs.LevelName(old), "changed", orNone(changed)}
	// Logged at no less than the new level, so that the line itself is never filtered out.
	level := max(logger.Level.Level(), slog.LevelInfo)
	msg := "SIGHUP: configuration reloaded"
	if len(needsRestart) > 0 {
		attrs = append(attrs, "needs_restart", orNone(needsRestart))
		level = max(level, slog.LevelWarn)
		msg += "; some changed settings take effect only after a restart"
	}
	log.Log(context.Background(), level, msg, attrs...)
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ",")
}
