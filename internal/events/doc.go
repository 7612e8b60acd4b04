// Package events is the hub between the durable event outbox and the live subscribers (the WebSocket
// endpoints of internal/ws).
//
// It owns: publishing committed events to every subscriber in seq order, exactly once each; a bounded
// buffer per subscriber and the slow-consumer policy (a full buffer ends that subscription, never
// anyone else's); tailing the outbox for events that other processes committed straight into the
// database file; replaying retained events to a subscriber that resumes with a seq, gap- and
// duplicate-free while writes go on; the resync rule when the requested events were pruned; and
// retention (pruning old events in the background while always keeping the newest ones).
//
// It reads and prunes the outbox through the Outbox interface (*store.Store implements it) and never
// imports the store, so that the packages serving events depend on neither the store nor the database.
//
// It must not: block a publisher (the store calls Publish while it holds the write lock, before the
// HTTP reply is written), know any wire format (internal/ws encodes envelopes), or write anything to
// the database except the retention deletes.
package events
