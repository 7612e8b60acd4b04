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
	"github.com/maestro-hq/maestro-server/internal/events"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/httpapi/apierr"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/obs"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/maestro-hq/maestro-server/internal/skills"
	"github.com/maestro-hq/maestro-server/internal/store"
	"github.com/maestro-hq/maestro-server/internal/ws"
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
	// The redactor knows the configured secrets, so they never reach a log line or an error report.
	redactor := obs.NewRedactor(cfg.APIToken, cfg.SentryDSN)
	logger, err := obs.NewLogger(obs.LogOptions{
		Level: cfg.LogLevel, Format: cfg.LogFormat, Out: stderr, Redactor: redactor,
		File: cfg.LogFile, MaxSizeMB: cfg.LogMaxSizeMB, MaxAgeDays: cfg.LogMaxAgeDays, MaxBackups: cfg.LogMaxBackups,
	})
	if err != nil {
		return err
	}
	defer func() { _ = logger.Close() }()
	log := logger.Logger
	apierr.Logger = func() *slog.Logger { return log }
	metrics := obs.NewRegistry(Version)
	tracker, err := obs.NewTracker(obs.TrackerOptions{
		DSN: cfg.SentryDSN, Release: Version, Environment: cfg.Environment, Logger: log,
		Registerer: metrics, Redactor: redactor,
	})
	if err != nil {
		return err
	}
	defer tracker.Close(2 * time.Second)
	if tracker != nil {
		log.Info("error tracking enabled (Sentry)", "environment", cfg.Environment, "release", Version)
	}
	if cfg.LogFile != "" {
		log.Info("logging to file as well", "file", cfg.LogFile, "max_size_mb", cfg.LogMaxSizeMB,
			"max_backups", cfg.LogMaxBackups, "max_age_days", cfg.LogMaxAgeDays)
	}
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

	// The events hub publishes every commit to the WebSocket clients, tails the outbox for other
	// processes' events and prunes it; it stops with runCtx, before the store closes.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	hub, err := events.New(ctx, st, events.Options{Logger: log, Retention: cfg.EventRetention, Registerer: metrics})
	if err != nil {
		_ = ln.Close()
		return err
	}
	st.SetPublisher(hub)
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(runCtx) }()
	sockets := ws.New(ws.Options{
		Hub: hub, Logger: log, Origins: cfg.WSOrigins, Registerer: metrics,
		StreamingEnabled: func() bool { return fl.Enabled(context.Background(), flags.WSStreaming) },
		ReplayEnabled:    func() bool { return fl.Enabled(context.Background(), flags.WSReplay) },
		V2Enabled:        func() bool { return fl.Enabled(context.Background(), flags.APIV2) },
	})
	// Switching ws-streaming off closes the open sockets with 1013. The callback runs before an API
	// toggle's response is written, so the sockets are closed on their own goroutine.
	stopWatchingFlags := fl.OnChange(func(c flags.Change) {
		if c.Key == flags.WSStreaming && !c.Enabled {
			go sockets.StopStreaming()
		}
	})
	defer stopWatchingFlags()
	// http.Server.Shutdown does not wait for hijacked connections: the sockets close with 1001 beside it.
	socketsDone := make(chan struct{})
	go func() {
		defer close(socketsDone)
		<-runCtx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := sockets.Shutdown(sctx); err != nil {
			log.Warn("websocket clients did not all close in time", "error", err)
		}
	}()

	svcs := service.New(st, service.Options{
		Logger: log, SessionDir: cfg.SessionDir, ServerURL: cfg.ServerURL, AuditRetention: cfg.AuditRetention,
	})
	// A database that cannot take the two default templates (full disk, read-only file) still serves
	// everything else, so a failure here is logged rather than fatal; the next start tries again.
	if err := svcs.Templates.SeedDefaults(ctx); err != nil {
		log.Error("seeding the default templates failed", "error", err)
	}
	registerStoreMetrics(metrics, st, cfg, svcs)
	skillSet := skills.New(skills.Options{Dir: cfg.SkillsDir, Logger: log, Notify: skills.StoreNotifier(st)})
	// The watcher records events through the store, so it must stop before the store closes: it runs on
	// its own context, cancelled and waited for when the server returns.
	watchCtx, stopWatch := context.WithCancel(ctx)
	watchDone := make(chan struct{})
	go func() { defer close(watchDone); skillSet.Watch(watchCtx) }()
	defer func() { stopWatch(); <-watchDone }()
	components := map[string]maestro.HealthReporter{"database": st, "skills": skillSet}
	if tracker != nil {
		components["sentry"] = tracker
	}
	srv := httpapi.New(httpapi.Options{
		Services: svcs, Logger: log, Started: started, APIToken: cfg.APIToken,
		CORSOrigins: cfg.CORSOrigins, ShutdownTimeout: cfg.ShutdownTimeout,
		RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, MaxInFlight: cfg.MaxInFlight,
		RequestTimeout: cfg.RequestTimeout,
		Skills:         skillSet, Components: components, Flags: fl,
		WebSocket: sockets, WSStatus: sockets.Status, EventLog: hub,
		Metrics: metrics, Tracker: tracker, LogLevel: logger.Level, Ready: readyChecks(st, cfg),
	})

	// The audit writer outlives the HTTP server by its final flush: it stops only after Serve drained
	// the in-flight requests, so their entries are written before the database closes.
	auditCtx, stopAudit := context.WithCancel(context.WithoutCancel(ctx))
	auditDone := make(chan struct{})
	go func() { defer close(auditDone); svcs.Audit.Run(auditCtx) }()
	defer func() { stopAudit(); <-auditDone }()

	if cfg.DebugAddr != "" {
		dln, err := net.Listen("tcp", cfg.DebugAddr)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("listen on DEBUG_ADDR %s: %w", cfg.DebugAddr, err)
		}
		log.Info("debug listener (pprof) on", "addr", dln.Addr().String(), "url", "http://"+dln.Addr().String()+"/debug/pprof/")
		go func() {
			if err := obs.ServeDebug(ctx, dln, log); err != nil {
				log.Error("debug listener stopped", "error", err)
			}
		}()
	}
	stopHUP := watchSIGHUP(ctx, cfg, logger)
	defer stopHUP()
	log.Info("maestro-server listening", "addr", addr.String(), "url", fmt.Sprintf("http://%s", addr.String()),
		"db", cfg.DBPath, "version", Version, "startup_ms", time.Since(started).Milliseconds())
	err = srv.Serve(ctx, ln)
	stopRun()
	<-socketsDone
	<-hubDone
	log.Info("maestro-server stopped")
	return err
}
