package maestro

import "encoding/json"

// ManifestVersion is the manifest format the maestro CLI reads.
const ManifestVersion = "1.0"

// Manifest is the file a spawn writes to <SESSION_DIR>/<sessionId>/manifest.json and the agent's CLI
// reads at `maestro worker|orchestrator init` (SPEC §4.4). The CLI validates it against a schema that
// rejects unknown keys, and the predecessor wrote its keys in this order, so it is a struct (fixed key
// order) rather than a map, and every optional field is omitted rather than null.
type Manifest struct {
	ManifestVersion string          `json:"manifestVersion"`
	Role            string          `json:"role"`
	Tasks           []ManifestTask  `json:"tasks"`
	Session         ManifestSession `json:"session"`
	Context         ManifestContext `json:"context"`
	Skills          []string        `json:"skills"`
	Strategy        string          `json:"strategy"`
	TemplateID      string          `json:"templateId,omitempty"`
}

// ManifestTask is one task of a manifest. CreatedAt is ISO-8601 UTC with milliseconds.
type ManifestTask struct {
	ID                 string          `json:"id"`
	Title              string          `json:"title"`
	Description        string          `json:"description"`
	AcceptanceCriteria []string        `json:"acceptanceCriteria"`
	ProjectID          string          `json:"projectId"`
	CreatedAt          string          `json:"createdAt"`
	ParentID           *string         `json:"parentId"`
	Dependencies       []string        `json:"dependencies"`
	Priority           string          `json:"priority,omitempty"`
	Metadata           json.RawMessage `json:"metadata,omitempty"`
}

// ManifestSession is the agent configuration of a manifest. WorkingDirectory is omitted when the
// project has no working directory.
type ManifestSession struct {
	Model            string `json:"model"`
	PermissionMode   string `json:"permissionMode"`
	ThinkingMode     string `json:"thinkingMode"`
	WorkingDirectory string `json:"workingDirectory,omitempty"`
}

// ManifestContext is the context block of a manifest; the server fills only custom.taskIds.
type ManifestContext struct {
	Custom ManifestCustom `json:"custom"`
}

// ManifestCustom is the free-form part of a manifest's context.
type ManifestCustom struct {
	TaskIDs []string `json:"taskIds"`
}

// ValidManifestPriority reports whether the manifest schema accepts p as a task priority.
func ValidManifestPriority(p string) bool {
	switch p {
	case PriorityLow, PriorityMedium, PriorityHigh, PriorityCritical:
		return true
	}
	return false
}
