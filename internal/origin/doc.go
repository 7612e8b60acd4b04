// Package origin matches browser Origin headers against configured patterns, for CORS and for the
// WebSocket origin check. A pattern is an exact origin ("tauri://localhost") or an origin whose port is
// a wildcard ("http://localhost:*", which also matches the origin without a port).
//
// It knows nothing of HTTP handlers or configuration loading; callers pass the patterns in.
package origin
