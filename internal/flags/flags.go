package flags

import "slices"

// Key names a feature flag. Only the keys declared below exist; the typed accessors take a Key so that a
// misspelt flag does not compile.
type Key string

// Type is the value type of a flag. Every flag today is a boolean; OpenFeature evaluations of another
// type answer TYPE_MISMATCH.
type Type string

// Boolean is the type of on/off flags.
const Boolean Type = "boolean"

// The flags. Every key, type, default and description lives in this one file.
const (
	// APIV2 gates all of /api/v2 except the flags, admin and health endpoints (and the v2 OpenAPI
	// document, which describes those too).
	APIV2 Key = "api-v2"
	// WSStreaming gates every WebSocket upgrade: off refuses new upgrades with 503 and closes open
	// sockets with 1013 (try again later).
	WSStreaming Key = "ws-streaming"
	// WSReplay gates `?since=` replay on WebSockets: off answers a replay request with one resync
	// message, then live events.
	WSReplay Key = "ws-replay"
	// TaskSearch gates the full-text `q` parameter of the v2 task list: off answers a list with `q`
	// with 404 FEATURE_DISABLED.
	TaskSearch Key = "task-search"
	// AdminData gates the data operations of the admin API: POST /api/v2/admin/backup and POST
	// /api/v2/admin/import. Off: 404 FEATURE_DISABLED (the command-line backup, restore and import
	// are not affected).
	AdminData Key = "admin-data"
	// DocsLogin gates the docs login (/docs?token=… trading the API token for a docs cookie): off, the
	// docs pages need the bearer header like the rest of the API when a token is configured.
	DocsLogin Key = "docs-login"
	// TaskLeases gates the task claim, lease and ready-set endpoints of v2 (and the Lease-Token header):
	// off answers them with 404 FEATURE_DISABLED.
	TaskLeases Key = "task-leases"
	// MCP gates the Model Context Protocol endpoint at /mcp: off answers it with 404 FEATURE_DISABLED.
	MCP Key = "mcp"
	// WSFlushWait gates the wait of a write's reply for its events to be written to every live
	// WebSocket (DESIGN §12, bounded by EVENT_FLUSH_TIMEOUT): off, replies go out as soon as the events
	// are queued for the sockets.
	WSFlushWait Key = "ws-flush-wait"
)

// Definition declares one flag.
type Definition struct {
	Key         Key
	Type        Type
	Default     bool
	Description string
}

// definitions is every flag, in the order lists show them.
var definitions = []Definition{
	{Key: APIV2, Type: Boolean, Default: true,
		Description: "API v2 at /api/v2 (all of it but /api/v2/flags, /api/v2/admin and health). Off: 404 FEATURE_DISABLED."},
	{Key: WSStreaming, Type: Boolean, Default: true,
		Description: "WebSocket streaming. Off: new upgrades get 503 and open sockets are closed with 1013."},
	{Key: WSReplay, Type: Boolean, Default: true,
		Description: "Replay of missed events on WebSocket connect (?since=). Off: one resync message, then live events."},
	{Key: TaskSearch, Type: Boolean, Default: true,
		Description: "Full-text task search (the q parameter of GET /api/v2/tasks). Off: 404 FEATURE_DISABLED."},
	{Key: AdminData, Type: Boolean, Default: true,
		Description: "Backups and predecessor imports over HTTP (POST /api/v2/admin/backup, /api/v2/admin/import). Off: 404 FEATURE_DISABLED."},
	{Key: DocsLogin, Type: Boolean, Default: true,
		Description: "Docs login with a token: /docs?token=… sets a cookie that opens the docs pages only. Off: the docs need the bearer header."},
	{Key: TaskLeases, Type: Boolean, Default: true,
		Description: "Task claims and leases for agents (claim, next, lease, ready set; the Lease-Token header). Off: 404 FEATURE_DISABLED."},
	{Key: MCP, Type: Boolean, Default: true,
		Description: "The Model Context Protocol endpoint for agents at /mcp. Off: 404 FEATURE_DISABLED."},
	{Key: WSFlushWait, Type: Boolean, Default: true,
		Description: "A write replies only once its events are written to every live WebSocket (at most EVENT_FLUSH_TIMEOUT). Off: as soon as they are queued."},
}

// Definitions returns every flag's definition, in display order.
func Definitions() []Definition {
	return slices.Clone(definitions)
}

// Lookup returns the definition of a flag key.
func Lookup(key string) (Definition, bool) {
	for _, d := range definitions {
		if string(d.Key) == key {
			return d, true
		}
	}
	return Definition{}, false
}

// Keys returns every flag key, in display order (for messages listing the valid ones).
func Keys() []string {
	out := make([]string, len(definitions))
	for i, d := range definitions {
		out[i] = string(d.Key)
	}
	return out
}
