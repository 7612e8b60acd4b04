package maestro

// AuditEntry is one mutating request as the audit log records it (DESIGN §7): who did what to which
// entity, how it ended, and the request ID that ties it to the logs and the events it caused.
type AuditEntry struct {
	ID        int64             `json:"id"`
	At        int64             `json:"at"`
	Actor     string            `json:"actor"`
	Method    string            `json:"method"`
	Route     string            `json:"route"`
	EntityID  *string           `json:"entityId"`
	Status    int               `json:"status"`
	RequestID string            `json:"requestId"`
	Detail    map[string]string `json:"detail,omitempty"`
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	Actor     string
	Method    string
	Route     string
	EntityID  string
	RequestID string
	Status    int
	// Since and Until bound At (ms): Since <= At < Until.
	Since int64
	Until int64
	// BeforeID continues a listing after the entry with this id (the cursor).
	BeforeID int64
	Limit    int
}
