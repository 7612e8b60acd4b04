package ws

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/maestro-hq/maestro-server/internal/events"
)

var (
	// errPeerGone: the client closed the socket or the connection broke (a read failed).
	errPeerGone = errors.New("ws: peer closed the connection")
	// errUnresponsive: the client missed two pongs in a row.
	errUnresponsive = errors.New("ws: peer missed two pongs")
)

// writeError wraps a failed write: the connection is unusable, so it is closed without a handshake.
type writeError struct{ error }

// serveConn runs one open socket until either side ends it. Three goroutines share it: the writer (this
// one) sends what the subscription yields, in order — events, resyncs and the pongs, which are queued
// behind the events so that a ping answers only after every event published before it; the reader turns
// client pings into those queued pongs and ignores everything else; the heartbeat pings the client.
func (s *Server) serveConn(ctx context.Context, log *slog.Logger, conn *websocket.Conn, cl *client, sub *events.Subscription, ep endpoint) {
	cl.state.Store(stateOpen)
	s.m.connections.Inc()
	defer s.m.connections.Dec()
	conn.SetReadLimit(s.opts.ReadLimit)

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.readLoop(conn, sub, cl.cancel) }()
	go func() { defer wg.Done(); s.heartbeat(ctx, conn, cl.cancel) }()

	err := s.writeLoop(ctx, conn, sub, ep)
	// Nothing more is written to this socket: end the subscription now rather than after the close
	// handshake (which may wait seconds for the peer), so that no request waits for it meanwhile.
	sub.Close()
	cl.state.Store(stateClosing)
	s.closeConn(ctx, log, conn, err)
	cl.cancel(errPeerGone) // stops the heartbeat if it is still running
	wg.Wait()
}

// closeConn closes the socket with the code that fits why the writer stopped.
func (s *Server) closeConn(ctx context.Context, log *slog.Logger, conn *websocket.Conn, err error) {
	var cc closeCause
	var we writeError
	switch {
	case errors.Is(err, events.ErrSlowConsumer):
		log.Info("websocket client dropped: too slow to keep up; it can resume with since")
		_ = conn.Close(websocket.StatusPolicyViolation, "slow consumer: resume with since")
	case errors.Is(err, events.ErrClosed):
		_ = conn.Close(websocket.StatusGoingAway, "subscription closed")
	case ctx.Err() != nil && errors.As(context.Cause(ctx), &cc):
		_ = conn.Close(cc.code, cc.reason)
	case ctx.Err() != nil || errors.As(err, &we):
		// The peer is gone, unresponsive or not reading: a close handshake would only wait.
		switch cause := context.Cause(ctx); {
		case errors.Is(cause, errUnresponsive):
			log.Info("websocket client dropped: missed two pongs")
		case errors.Is(cause, errPeerGone) || we.error == nil:
			log.Debug("websocket client disconnected")
		default:
			log.Info("websocket client dropped: a write failed or timed out", "error", we.error)
		}
		_ = conn.CloseNow()
	default:
		log.Error("websocket: replaying events failed", "error", err)
		_ = conn.Close(websocket.StatusInternalError, "internal error")
	}
}

// writeLoop writes the subscription's items until it ends, ctx ends, or a write fails.
func (s *Server) writeLoop(ctx context.Context, conn *websocket.Conn, sub *events.Subscription, ep endpoint) error {
	slot, encode := slotLegacy, encodeLegacy
	if ep == streamSocket {
		slot, encode = slotStream, encodeStream
	}
	// The write timeout is a watchdog that drops the connection when one write takes too long. It is not
	// a context deadline: the library arms a context callback on every write with a cancellable context,
	// which with a thousand sockets costs more than the write itself, while a timer is reset in place.
	// It is also independent of ctx, so that cancelling ctx (CloseAll, shutdown) lets the current write
	// finish and the socket then close with a handshake.
	var timedOut atomic.Bool
	watchdog := time.AfterFunc(time.Hour, func() {
		timedOut.Store(true)
		_ = conn.CloseNow()
	})
	watchdog.Stop()
	defer watchdog.Stop()
	for {
		// Calling Next again tells the subscription that the previous item's write has returned: the
		// request that caused an event replies only then (events.Hub.AwaitWritten), so nothing may sit
		// between a write and the next call.
		it, err := sub.Next(ctx)
		if err != nil {
			return err
		}
		var msg []byte
		switch it.Kind {
		case events.KindEvent:
			msg = it.Entry.Encoded(slot, encode)
		case events.KindResync:
			msg = resyncMessage
		case events.KindMark:
			msg = pongMessage(s.opts.Now().UnixMilli())
		default:
			continue
		}
		watchdog.Reset(s.opts.WriteTimeout)
		err = conn.Write(context.Background(), websocket.MessageText, msg)
		if !watchdog.Stop() && timedOut.Load() {
			return writeError{errors.New("ws: write timed out")}
		}
		if err != nil {
			return writeError{err}
		}
		s.m.sent.Inc()
	}
}

// readLoop reads client messages until the connection ends. {"type":"ping"} (text or binary) is answered
// through the subscription; every other message is ignored and the socket stays open.
func (s *Server) readLoop(conn *websocket.Conn, sub *events.Subscription, cancel context.CancelCauseFunc) {
	for {
		// A background context: the library closes the connection when a read's context ends, and the
		// close handshake must stay possible until the writer performs it.
		_, msg, err := conn.Read(context.Background())
		if err != nil {
			cancel(errPeerGone)
			return
		}
		if isPing(msg) {
			sub.Mark()
		}
	}
}

// heartbeat pings the client every PingInterval and gives each ping one interval to be answered; after
// two misses in a row the client is dropped. Browsers and the CLI's WebSocket library answer protocol
// pings by themselves.
func (s *Server) heartbeat(ctx context.Context, conn *websocket.Conn, cancel context.CancelCauseFunc) {
	interval := s.opts.PingInterval
	t := time.NewTicker(interval)
	defer t.Stop()
	missed := 0
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, pcancel := context.WithTimeout(context.Background(), interval)
		err := conn.Ping(pctx)
		pcancel()
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			missed = 0
			continue
		}
		if missed++; missed >= 2 {
			cancel(errUnresponsive)
			return
		}
	}
}
