// Package flags owns Maestro Server's feature flags: the one list of flag keys with their types,
// defaults and descriptions (flags.go), an OpenFeature provider over the feature_flags table, typed
// accessors that evaluate through an OpenFeature client, change notification, and the operations ops use
// to toggle flags (set, unset, flagd JSON import), each in one transaction together with its
// flag:updated event and its audit row.
//
// A flag without a row in feature_flags takes its coded default, so an empty table means "all
// defaults". The provider caches the rows and reloads them whenever the database changes — including
// commits by another process, such as `maestro-server flags set` run while the server is up — so a
// change is in effect within a second wherever it was made.
//
// Evaluation uses an isolated OpenFeature API instance owned by each Flags value, never the SDK's
// process-global singleton: several servers (or tests) in one process never see each other's flags.
//
// This package must not know about HTTP or WebSocket: it says whether a feature is on and tells
// subscribers when that changes; the HTTP and WebSocket layers decide what "off" means for them.
package flags
