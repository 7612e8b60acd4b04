package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/maestro-hq/maestro-server/internal/config"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/httpapi/apierr"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/obs"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/maestro-hq/maestro-server/internal/skills"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Version is the build version, set with -ldflags "-X .../internal/app.Version=...".
var Version = "dev"

// Serve runs the server until SIGINT or SIGTERM, then drains and exits cleanly (D17).
func Serve(cfg *config.Config, stderr io.Writer) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, cfg, stderr)
}

// Run runs the server until ctx is cancelled.
func Run(ctx context.Context, cfg *config.Config, stderr io.Writer) error {
	started := time.Now()
	logger, err := obs.NewLogger(obs.LogOptions{Level: cfg.LogLevel, Format: cfg.LogFormat, Out: stderr})
	if err != nil {
		return err
	}
	log := logger.Logger
	apierr.Logger = func() *slog.Logger { return log }
	for _, name := range cfg.Ignored {
		log.Warn("ignoring predecessor setting that has no effect here", "setting", name)
	}

	st, err := store.Open(ctx, store.Options{Path: cfg.DBPath, Logger: log})
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing database", "error", err)
		}
	}()

	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	addr := ln.Addr().(*net.TCPAddr)
	if cfg.ServerURL == "" {
		cfg.ServerURL = fmt.Sprintf("http://localhost:%d", addr.Port)
	}

	fl, err := flags.New(ctx, st, flags.Options{Logger: log})
	if err != nil {
		_ = ln.Close()
		return err
	}
	defer func() { _ = fl.Close() }()
	pruneCtx, stopPruning := context.WithCancel(ctx)
	pruned := make(chan struct{})
	go func() { defer close(pruned); pruneIdempotencyKeys(pruneCtx, st, log) }()
	defer func() { stopPruning(); <-pruned }() // before the store closes

	svcs := service.New(st, service.Options{Logger: log, SessionDir: cfg.SessionDir, ServerURL: cfg.ServerURL})
	// A database that cannot take the two default templates (full disk, read-only file) still serves
	// everything else, so a failure here is logged rather than fatal; the next start tries again.
	if err := svcs.Templates.SeedDefaults(ctx); err != nil {
		log.Error("seeding the default templates failed", "error", err)
	}
	skillSet := skills.New(skills.Options{Dir: cfg.SkillsDir, Logger: log, Notify: skills.StoreNotifier(st)})
	// The watcher records events through the store, so it must stop before the store closes: it runs on
	// its own context, cancelled and waited for when the server returns.
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); skillSet.Watch(watchCtx) }()
	defer func() { stopWatch(); <-watchDone }()
	srv := httpapi.New(httpapi.Options{
		Services: svcs, Logger: log, Started: started, APIToken: cfg.APIToken,
		CORSOrigins: cfg.CORSOrigins, ShutdownTimeout: cfg.ShutdownTimeout,
		Skills: skillSet, Components: map[string]maestro.HealthReporter{"skills": skillSet},
		Flags: fl,
	})
	log.Info("maestro-server listening", "addr", addr.String(), "url", fmt.Sprintf("http://%s", addr.String()),
		"db", cfg.DBPath, "version", Version, "startup_ms", time.Since(started).Milliseconds())
	err = srv.Serve(ctx, ln)
	log.Info("maestro-server stopped")
	return err
}
