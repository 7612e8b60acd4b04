package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// ChangePollInterval is how often the change feed asks SQLite whether anything was committed.
const ChangePollInterval = 100 * time.Millisecond

// changeFeed polls `PRAGMA data_version` on one dedicated connection. SQLite changes that number
// whenever ANY other connection committed — this process's writer or another process such as the
// `maestro-server flags` command writing the file directly — so it notices every commit within one
// interval without reading any table.
type changeFeed struct {
	mu     sync.Mutex
	subs   map[chan struct{}]struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// SubscribeChanges returns a channel that receives a value (coalesced: at most one pending) after
// commits by any connection, and a function that ends the subscription. The poller starts with the
// first subscriber and stops when the store closes.
func (s *Store) SubscribeChanges() (<-chan struct{}, func()) {
	f := &s.changes
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.subs == nil {
		f.subs = map[chan struct{}]struct{}{}
	}
	ch := make(chan struct{}, 1)
	f.subs[ch] = struct{}{}
	if f.cancel == nil {
		ctx, cancel := context.WithCancel(context.Background())
		f.cancel, f.done = cancel, make(chan struct{})
		// The baseline is read before SubscribeChanges returns, so a commit made right after subscribing
		// is always noticed.
		conn, last, err := s.dataVersionConn(ctx)
		if err != nil {
			s.log.Error("change feed: cannot hold a connection; commits by other processes go unnoticed", "error", err)
			close(f.done)
		} else {
			go s.pollDataVersion(ctx, conn, last, f.done)
		}
	}
	return ch, func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		delete(f.subs, ch)
	}
}

func (s *Store) notifyChanges() {
	f := &s.changes
	f.mu.Lock()
	defer f.mu.Unlock()
	for ch := range f.subs {
		select {
		case ch <- struct{}{}:
		default: // a notification is already pending; it covers this commit too
		}
	}
}

// dataVersionConn takes the connection the poller keeps for itself and reads its first data_version.
func (s *Store) dataVersionConn(ctx context.Context) (*sql.Conn, int64, error) {
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return nil, 0, err
	}
	var v int64
	if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
		_ = conn.Close()
		return nil, 0, err
	}
	return conn, v, nil
}

func (s *Store) pollDataVersion(ctx context.Context, conn *sql.Conn, last int64, done chan<- struct{}) {
	defer close(done)
	defer conn.Close()
	t := time.NewTicker(ChangePollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var v int64
		if err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Warn("change feed: poll failed", "error", err)
			continue
		}
		if v != last {
			last = v
			s.notifyChanges()
		}
	}
}

// stopChanges stops the poller (on Close).
func (s *Store) stopChanges() {
	f := &s.changes
	f.mu.Lock()
	cancel, done := f.cancel, f.done
	f.cancel = nil
	f.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}
