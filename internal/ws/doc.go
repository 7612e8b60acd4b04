// Package ws serves the WebSocket endpoints: the legacy socket of the v1 contract on any path (the UI
// dials ws://host:port) and the v2 event stream at /api/v2/events/stream.
//
// It owns: the upgrade (origin policy, the streaming switch, query parameters), the wire envelopes of
// both endpoints, the ping/pong of the JSON protocol and of the WebSocket protocol (heartbeat), writing
// events from an events.Subscription in order, the close codes (1008 slow consumer, 1001 shutdown, 1013
// streaming switched off), /ws-status and the connection metrics.
//
// It must not: decide what events exist or their order (internal/events does), read the database
// directly, or let one client's socket slow down another or a request. It renders its refusals with
// internal/apierr, like the REST handlers, and learns the flags that gate it as functions and key names
// in its Options, so that it depends on neither the flags package nor, through it, the store.
package ws
