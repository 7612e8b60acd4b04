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
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/httpapi/apierr"
	"github.com/maestro-hq/maestro-server/internal/obs"
	"github.com/maestro-hq/maestro-server/internal/service"
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

	// The events hub publishes every commit to the WebSocket clients, tails the outbox for other
	// processes' events and prunes it; it stops with runCtx, before the store closes.
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	hub, err := events.New(ctx, st, events.Options{Logger: log, Retention: cfg.EventRetention})
	if err != nil {
		_ = ln.Close()
		return err
	}
	st.SetPublisher(hub)
	hubDone := make(chan struct{})
	go func() { defer close(hubDone); hub.Run(runCtx) }()
	sockets := ws.New(ws.Options{Hub: hub, Logger: log, Origins: cfg.WSOrigins})
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

	svcs := service.New(st, service.Options{Logger: log})
	srv := httpapi.New(httpapi.Options{
		Services: svcs, Logger: log, Started: started, APIToken: cfg.APIToken,
		CORSOrigins: cfg.CORSOrigins, ShutdownTimeout: cfg.ShutdownTimeout,
		WebSocket: sockets, WSStatus: sockets.Status, EventLog: hub,
	})
	log.Info("maestro-server listening", "addr", addr.String(), "url", fmt.Sprintf("http://%s", addr.String()),
		"db", cfg.DBPath, "version", Version, "startup_ms", time.Since(started).Milliseconds())
	err = srv.Serve(ctx, ln)
	stopRun()
	<-socketsDone
	<-hubDone
	log.Info("maestro-server stopped")
	return err
}
