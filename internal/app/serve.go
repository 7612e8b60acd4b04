package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/maestro-hq/maestro-server/internal/config"
	"github.com/maestro-hq/maestro-server/internal/events"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/mcpapi"
	"github.com/maestro-hq/maestro-server/internal/obs"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/maestro-hq/maestro-server/internal/skills"
	"github.com/maestro-hq/maestro-server/internal/store"
	"github.com/maestro-hq/maestro-server/internal/ws"
	"github.com/prometheus/client_golang/prometheus"
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
//
// It starts the parts in dependency order, and each part that runs in the background is stopped — and
// waited for — by a deferred call registered right after it started. Shutdown therefore runs in the
// reverse order of start-up, and so does the unwinding when a later start-up step fails: whatever
// writes through the store (the events hub's retention, the skills watcher, the audit writer, the
// idempotency-key pruner) has returned before the store closes, in both cases.
func Run(ctx context.Context, cfg *config.Config, stderr io.Writer) error {
	started := time.Now()
	logger, metrics, tracker, err := startObservability(cfg, stderr)
	if err != nil {
		return err
	}
	defer func() { _ = logger.Close() }()
	defer tracker.Close(2 * time.Second)
	log := logger.Logger

	// The lock says "a server runs on this database": import and restore refuse while it is held, and a
	// second server (or one started under a restore) refuses to start.
	lock, err := store.LockDB(cfg.DBPath, "serve")
	if err != nil {
		return err
	}
	defer func() { _ = lock.Unlock() }()
	st, err := store.Open(ctx, store.Options{Path: cfg.DBPath, Logger: log, BackupDir: cfg.BackupDir(), BackupKeep: cfg.BackupKeep})
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
	// Serve closes the listener; this closes it when a step before Serve fails.
	defer func() { _ = ln.Close() }()
	addr := ln.Addr().(*net.TCPAddr)
	if cfg.ServerURL == "" {
		cfg.ServerURL = fmt.Sprintf("http://localhost:%d", addr.Port)
	}

	fl, err := flags.New(ctx, st, flags.Options{Logger: log})
	if err != nil {
		return err
	}
	defer func() { _ = fl.Close() }()
	stopPruning := background(ctx, st.PruneIdempotencyKeysEvery)
	defer stopPruning()

	hub, sockets, stopLive, err := startLive(ctx, cfg, st, fl, metrics, log)
	if err != nil {
		return err
	}
	defer stopLive()

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
	// The watcher records skills:changed through the store.
	stopWatch := background(ctx, skillSet.Watch)
	defer stopWatch()
	// Scheduled backups (BACKUP_INTERVAL; off by default) write through the store's reader pool.
	stopBackups := background(ctx, func(ctx context.Context) { svcs.Backups.Run(ctx, cfg.BackupInterval) })
	defer stopBackups()
	if cfg.BackupInterval > 0 {
		log.Info("scheduled backups on", "interval", cfg.BackupInterval.String(), "dir", svcs.Backups.Dir(), "keep", cfg.BackupKeep)
	}
	components := map[string]maestro.HealthReporter{"database": st, "skills": skillSet, "backup": svcs.Backups}
	if tracker != nil {
		components["sentry"] = tracker
	}
	srv := httpapi.New(httpapi.Options{
		Services: svcs, Logger: log, Started: started, APIToken: cfg.APIToken,
		CORSOrigins: cfg.CORSOrigins, AllowedHosts: cfg.HostNames(), ShutdownTimeout: cfg.ShutdownTimeout,
		RateLimit: cfg.RateLimit, RateBurst: cfg.RateBurst, MaxInFlight: cfg.MaxInFlight,
		RequestTimeout: cfg.RequestTimeout,
		CommitSeq:      st.CommitSeq, ResponseCacheBytes: int64(cfg.ResponseCacheMB) << 20,
		ResponseGzip: cfg.ResponseGzip,
		Skills:       skillSet, Components: components, Flags: fl,
		WebSocket: sockets, WSStatus: sockets.Status, EventLog: hub,
		Metrics: metrics, Tracker: tracker, LogLevel: logger.Level, Ready: readyChecks(st, cfg),
		MCP: mcpapi.Handler(mcpapi.Options{
			Services: svcs, Flags: fl, Skills: skillSet, Origins: cfg.CORSOrigins, Logger: log, Version: Version,
		}),
	})

	// The audit writer outlives the HTTP server by its final flush: it is not stopped by ctx but after
	// Serve drained the in-flight requests, so their entries are written before the database closes.
	stopAudit := background(context.WithoutCancel(ctx), svcs.Audit.Run)
	defer stopAudit()
	// Expired task leases are swept every second: a crashed agent's task is back to todo soon after its
	// lease ran out.
	stopLeases := background(ctx, func(ctx context.Context) { svcs.Leases.Run(ctx, time.Second) })
	defer stopLeases()

	if cfg.DebugAddr != "" {
		stopDebug, err := startDebugListener(ctx, cfg.DebugAddr, log)
		if err != nil {
			return err
		}
		defer stopDebug()
	}
	stopHUP := watchSIGHUP(ctx, cfg, logger)
	defer stopHUP()
	log.Info("maestro-server listening", "addr", addr.String(), "url", fmt.Sprintf("http://%s", addr.String()),
		"db", cfg.DBPath, "version", Version, "startup_ms", time.Since(started).Milliseconds())
	err = srv.Serve(ctx, ln)
	stopLive()
	log.Info("maestro-server stopped")
	return err
}

// startObservability builds the logger (redacting the configured secrets, so that they never reach a
// log line or an error report) and creates the metrics registry and the error tracker (nil without
// SENTRY_DSN). It logs how they are set up.
func startObservability(cfg *config.Config, stderr io.Writer) (*obs.Logger, *prometheus.Registry, *obs.Tracker, error) {
	redactor := obs.NewRedactor(cfg.APIToken, cfg.SentryDSN)
	logger, err := obs.NewLogger(obs.LogOptions{
		Level: cfg.LogLevel, Format: cfg.LogFormat, Out: stderr, Redactor: redactor,
		File: cfg.LogFile, MaxSizeMB: cfg.LogMaxSizeMB, MaxAgeDays: cfg.LogMaxAgeDays, MaxBackups: cfg.LogMaxBackups,
	})
	if err != nil {
		return nil, nil, nil, err
	}
	log := logger.Logger
	metrics := obs.NewRegistry(Version)
	tracker, err := obs.NewTracker(obs.TrackerOptions{
		DSN: cfg.SentryDSN, Release: Version, Environment: cfg.Environment, Logger: log,
		Registerer: metrics, Redactor: redactor,
	})
	if err != nil {
		_ = logger.Close()
		return nil, nil, nil, err
	}
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
	if cfg.NeedsAllowedHosts() {
		log.Warn("listening on every interface, but only requests whose Host is a loopback name or SERVER_URL's "+
			"host are answered (DNS-rebinding guard): set ALLOWED_HOSTS to the names and addresses other machines use",
			"host", cfg.Host, "server_url", cfg.ServerURL)
	}
	return logger, metrics, tracker, nil
}

// startLive creates the events hub, makes it the store's publisher and runs it (it tails the outbox for
// other processes' events and prunes it), and builds the WebSocket server over it, gated by the flags.
// The sockets close with 1001 as soon as ctx ends, beside the HTTP server's drain, which does not wait
// for hijacked connections. stop ends both: it waits for the sockets to close (at most
// ShutdownTimeout), then stops the hub; it may be called more than once.
func startLive(ctx context.Context, cfg *config.Config, st *store.Store, fl *flags.Flags, metrics prometheus.Registerer, log *slog.Logger) (*events.Hub, *ws.Server, func(), error) {
	flush := cfg.EventFlushTimeout
	if flush == 0 {
		flush = -1 // EVENT_FLUSH_TIMEOUT=0: replies do not wait for the sockets
	}
	hub, err := events.New(ctx, st, events.Options{
		Logger: log, Retention: cfg.EventRetention, Registerer: metrics, FlushTimeout: flush,
		FlushEnabled: func() bool { return fl.Enabled(context.Background(), flags.WSFlushWait) },
	})
	if err != nil {
		return nil, nil, nil, err
	}
	st.SetPublisher(hub)
	stopHub := background(ctx, hub.Run)
	sockets := ws.New(ws.Options{
		Hub: hub, Logger: log, Origins: cfg.WSOrigins, Registerer: metrics,
		StreamingEnabled: func() bool { return fl.Enabled(context.Background(), flags.WSStreaming) },
		ReplayEnabled:    func() bool { return fl.Enabled(context.Background(), flags.WSReplay) },
		V2Enabled:        func() bool { return fl.Enabled(context.Background(), flags.APIV2) },
		StreamingFlag:    string(flags.WSStreaming), V2Flag: string(flags.APIV2),
	})
	// Switching ws-streaming off closes the open sockets with 1013. StopStreaming only cancels each
	// socket's context (the sockets close on their own goroutines), so it runs right in the callback:
	// on a goroutine of its own it could run after the flag was switched back on, and close sockets
	// opened since.
	stopWatchingFlags := fl.OnChange(func(c flags.Change) {
		if c.Key == flags.WSStreaming && !c.Enabled {
			sockets.StopStreaming()
		}
	})
	stopSockets := background(ctx, func(ctx context.Context) {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := sockets.Shutdown(sctx); err != nil {
			log.Warn("websocket clients did not all close in time", "error", err)
		}
	})
	stop := sync.OnceFunc(func() {
		stopSockets()
		stopHub()
		stopWatchingFlags()
	})
	return hub, sockets, stop, nil
}

// startDebugListener serves pprof on addr (loopback only; the configuration refuses anything else) until
// ctx ends or the returned function is called, which waits for the listener to stop.
func startDebugListener(ctx context.Context, addr string, log *slog.Logger) (stop func(), err error) {
	dln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on DEBUG_ADDR %s: %w", addr, err)
	}
	log.Info("debug listener (pprof) on", "addr", dln.Addr().String(), "url", "http://"+dln.Addr().String()+"/debug/pprof/")
	return background(ctx, func(ctx context.Context) {
		if err := obs.ServeDebug(ctx, dln, log); err != nil {
			log.Error("debug listener stopped", "error", err)
		}
	}), nil
}

// background runs fn on a goroutine of its own with a context derived from parent, and returns the
// function that cancels that context and waits for fn to return. That function may be called more than
// once; Run defers it right after the start, so the goroutine never outlives Run.
func background(parent context.Context, fn func(ctx context.Context)) (stop func()) {
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
	}()
	return sync.OnceFunc(func() {
		cancel()
		<-done
	})
}
