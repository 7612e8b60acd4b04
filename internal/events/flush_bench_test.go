package events_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/maestro-hq/maestro-server/internal/dbtest"
	"github.com/maestro-hq/maestro-server/internal/events"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// BenchmarkHub_FanOutAndWait measures one event's way to n subscribers whose readers take every item
// (no sockets: this is the hub's own cost), until every reader has it. "count" learns that from the
// reader that takes the last copy (the readers count what they take) — the fan-out alone; "await" uses
// AwaitWritten, as a request does — the fan-out plus the acknowledgements and the waiter. The difference is what the "events before
// the reply" machinery costs per event.
func BenchmarkHub_FanOutAndWait(b *testing.B) {
	for _, n := range []int{10, 1000} {
		for _, mode := range []string{"count", "await"} {
			b.Run(fmt.Sprintf("subs=%d/%s", n, mode), func(b *testing.B) {
				st := dbtest.New(b)
				hub, err := events.New(context.Background(), st, events.Options{
					Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), FlushTimeout: 10 * time.Second,
				})
				if err != nil {
					b.Fatal(err)
				}
				var seen atomic.Int64
				all := make(chan struct{}, 1)
				var wg sync.WaitGroup
				subs := make([]*events.Subscription, n)
				for i := range subs {
					subs[i] = hub.Subscribe(events.SubscribeOptions{})
					wg.Add(1)
					go func(s *events.Subscription) {
						defer wg.Done()
						for {
							if _, err := s.Next(context.Background()); err != nil {
								return
							}
							// The next event is published only once every reader has the current one, so
							// the count reaches a multiple of n exactly then.
							if seen.Add(1)%int64(n) == 0 {
								all <- struct{}{}
							}
						}
					}(subs[i])
				}
				seq := hub.LastSeq()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					seq++
					hub.Publish([]maestro.Event{{Seq: seq, Type: "task:created", Data: []byte(`{}`)}})
					if mode == "await" {
						hub.AwaitWritten(maestro.WithEventWait(context.Background()), seq)
					}
					<-all // for await too: its acknowledgement comes after the count
				}
				b.StopTimer()
				for _, s := range subs {
					s.Close()
				}
				wg.Wait()
			})
		}
	}
}
