package maestro

// A project export (API v2) is one self-contained document: the project, its tasks, its sessions with
// their event logs, timelines and task links, and the sessions' queues. Importing it recreates all of
// that in one transaction, under the document's ids or under new ones.

// The format name and version every export document carries. An importer refuses other values, so
// that a future version of the document is never half-understood.
const (
	ExportFormat  = "maestro.project-export"
	ExportVersion = 1
)

// How an import treats the document's ids.
const (
	// ImportKeepIDs stores every record under its document id; any id already taken is CONFLICT.
	ImportKeepIDs = "keep"
	// ImportNewIDs mints a new id for the project, every task and every session and rewrites every
	// reference to them.
	ImportNewIDs = "new"
)

// Kinds of reference an export leaves out because they point outside the exported project.
const (
	OmittedLink       = "link"
	OmittedParent     = "parent"
	OmittedDependency = "dependency"
)

// ProjectExport is the export document in domain form.
//
// Tasks are in (createdAt, id) order, sessions in (startedAt, id) order, queues in their sessions'
// order. A task's SessionIDs and a session's TaskIDs list the same links, each in its own side's order,
// and only links between two records of the document; a reference that leaves the project (a link to
// a session or task of another project, a parent in another project) is dropped from the records and
// listed in Omitted, so that the document always imports on its own.
type ProjectExport struct {
	Format     string
	Version    int
	ExportedAt int64
	Project    Project
	Tasks      []Task
	// Sessions carry their Events and Timeline, every entry as stored.
	Sessions []Session
	Queues   []Queue
	Omitted  []OmittedRef
}

// OmittedRef is a reference an export left out: From (a task or session of the document) named To,
// which is not in the document.
type OmittedRef struct {
	Kind string `json:"kind"`
	From string `json:"from"`
	To   string `json:"to"`
}

// ImportResult is what an import stored.
type ImportResult struct {
	Project Project
	// Mode is ImportKeepIDs or ImportNewIDs.
	Mode string
	// IDs maps each document id (the project's, every task's and every session's) to the id it was stored
	// under: itself with ImportKeepIDs.
	IDs    map[string]string
	Counts ImportCounts
}

// ImportCounts counts the records an import stored.
type ImportCounts struct {
	Tasks      int `json:"tasks"`
	Sessions   int `json:"sessions"`
	Links      int `json:"links"`
	Events     int `json:"events"`
	Timeline   int `json:"timeline"`
	Queues     int `json:"queues"`
	QueueItems int `json:"queueItems"`
}
