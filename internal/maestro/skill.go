package maestro

import (
	"context"
	"regexp"
)

// SkillSummary is what the skill list returns for each skill (SPEC §5).
type SkillSummary struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Type        string `json:"type"`
	Version     string `json:"version"`
}

// Skill is a skill with its instructions (the text of skill.md, or "").
type Skill struct {
	SkillSummary
	Instructions string `json:"instructions"`
}

// SkillDetail is everything known about one valid skill: the summary (with the SPEC §5 defaults
// applied), the rest of its manifest, and its instructions.
type SkillDetail struct {
	SkillSummary
	AssignTo     []string       `json:"assignTo"`
	Capabilities []string       `json:"capabilities"`
	Dependencies []string       `json:"dependencies"`
	Author       string         `json:"author"`
	License      string         `json:"license"`
	Config       map[string]any `json:"config"`
	Instructions string         `json:"instructions"`
}

// InvalidSkill is a skill directory that could not be served: unparseable or schema-violating
// manifest.json, unreadable files, a name that is not a valid id, a symlink leaving the skills root.
type InvalidSkill struct {
	// ID is the directory name and Path the directory; Errors has every problem found, one sentence each.
	ID     string
	Path   string
	Errors []string
}

// SkillRoleSets names, per role (the roles of spawned sessions), the skill ids a session of that role
// gets, in order (SPEC §5). A skill that is absent or invalid is left out.
var SkillRoleSets = map[string][]string{
	RoleWorker:       {"maestro-cli", "maestro-worker"},
	RoleOrchestrator: {"maestro-cli", "maestro-orchestrator"},
}

// SkillCatalog is the set of skills the API serves. The handlers depend on this interface only; the
// implementation (internal/skills) reads SKILLS_DIR and keeps the set current.
//
// Every method that takes an id rejects an invalid one (ValidateSkillID) with VALIDATION_ERROR, and
// answers NOT_FOUND (SkillNotFound) for a skill that is absent or invalid.
type SkillCatalog interface {
	// ListSkills returns every valid skill, sorted by id (the directory name).
	ListSkills() []SkillDetail
	// GetSkill returns one valid skill.
	GetSkill(id string) (SkillDetail, error)
	// SkillsForRole returns the valid skills of a role's set (SkillRoleSets), in set order.
	// An unknown role is a VALIDATION_ERROR.
	SkillsForRole(role string) ([]SkillDetail, error)
	// ReloadSkill re-reads one skill from disk now and returns it.
	ReloadSkill(ctx context.Context, id string) (SkillDetail, error)
	// InvalidSkills returns every skill directory that could not be served, sorted by id, with the reasons.
	InvalidSkills() []InvalidSkill
}

var skillIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,128}$`)

// ValidateSkillID checks a skill id (D13): 1 to 128 letters, digits, '.', '_' or '-', and neither '.'
// nor '..'. Such an id names exactly one directory entry under the skills root, so it can never
// climb out of it.
func ValidateSkillID(id string) error {
	if !skillIDPattern.MatchString(id) || id == "." || id == ".." {
		return InvalidField("id", "Invalid skill id %q: use 1-128 letters, digits, '.', '_' or '-' (not '.' or '..')", id)
	}
	return nil
}

// ValidateSkillRole checks the role of the role routes.
func ValidateSkillRole(role string) error {
	if _, ok := SkillRoleSets[role]; !ok {
		return InvalidField("role", `Role must be "worker" or "orchestrator"`)
	}
	return nil
}

// SkillNotFound is the predecessor's not-found error for skills: "Skill not found: <id>".
func SkillNotFound(id string) *Error {
	return Errorf(CodeNotFound, "Skill not found: %s", id)
}

// NoSkills is a SkillCatalog with no skills in it, for servers built without a skills directory.
type NoSkills struct{}

// ListSkills implements SkillCatalog.
func (NoSkills) ListSkills() []SkillDetail { return []SkillDetail{} }

// GetSkill implements SkillCatalog.
func (NoSkills) GetSkill(id string) (SkillDetail, error) {
	if err := ValidateSkillID(id); err != nil {
		return SkillDetail{}, err
	}
	return SkillDetail{}, SkillNotFound(id)
}

// SkillsForRole implements SkillCatalog.
func (NoSkills) SkillsForRole(role string) ([]SkillDetail, error) {
	if err := ValidateSkillRole(role); err != nil {
		return nil, err
	}
	return []SkillDetail{}, nil
}

// ReloadSkill implements SkillCatalog.
func (n NoSkills) ReloadSkill(_ context.Context, id string) (SkillDetail, error) {
	return n.GetSkill(id)
}

// InvalidSkills implements SkillCatalog.
func (NoSkills) InvalidSkills() []InvalidSkill { return []InvalidSkill{} }
