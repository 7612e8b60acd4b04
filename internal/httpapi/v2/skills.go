package v2

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// SkillItem is one skill in the v2 list: the summary with the SPEC §5 defaults and the rest of its
// manifest, without the instructions (GET /api/v2/skills/{id} has them).
type SkillItem struct {
	ID           string         `json:"id" doc:"The skill's directory name."`
	Name         string         `json:"name" doc:"manifest name, or the id when absent."`
	Description  string         `json:"description"`
	Type         string         `json:"type" doc:"system, role or custom (system when absent)."`
	Version      string         `json:"version" doc:"1.0.0 when absent."`
	AssignTo     []string       `json:"assignTo" doc:"all, worker and/or orchestrator."`
	Capabilities []string       `json:"capabilities"`
	Dependencies []string       `json:"dependencies"`
	Author       string         `json:"author"`
	License      string         `json:"license"`
	Config       map[string]any `json:"config"`
}

// SkillPage is the v2 skill list. Skills are few, so the whole list is one page: nextCursor is always
// null, in the shape of every other v2 list.
type SkillPage struct {
	Items      []SkillItem `json:"items"`
	NextCursor *string     `json:"nextCursor" nullable:"true" doc:"Always null: the list is never split."`
}

// InvalidSkill is a skill directory that is not served (maestro.InvalidSkill on the wire).
type InvalidSkill struct {
	ID     string   `json:"id" doc:"The directory name."`
	Path   string   `json:"path" doc:"The skill directory on the server."`
	Errors []string `json:"errors" doc:"Every problem found, one sentence each."`
}

// InvalidSkillList lists the skill directories that are not served, with the reasons.
type InvalidSkillList struct {
	Items []InvalidSkill `json:"items"`
}

type skillIDInput struct {
	ID string `path:"id" doc:"Skill id: the skill's directory name (1-128 of A-Z a-z 0-9 . _ -, not . or ..)."`
}

type skillPageOutput struct{ Body SkillPage }

type skillOutput struct{ Body maestro.SkillDetail }

type invalidSkillsOutput struct{ Body InvalidSkillList }

// skillsV2 holds what the Skills operations need; each method serves one of them and is named
// after its operation ID.
type skillsV2 struct {
	cat maestro.SkillCatalog
}

func registerSkills(api huma.API, d Deps) {
	cat := d.Skills
	if cat == nil {
		cat = maestro.NoSkills{}
	}

	h := skillsV2{cat: cat}
	huma.Register(api, op("list-skills", http.MethodGet, Prefix+"/skills", "Skills", "List skills",
		"Every valid skill under SKILLS_DIR, sorted by id. The set is kept current by watching the "+
			"directory; each change is broadcast as `skills:changed`."),
		h.listSkills)

	// The literal segment wins over {id} in the router, so a skill whose directory is named "invalid" is
	// listed by GET /api/v2/skills but reachable by id only through v1.
	huma.Register(api, op("list-invalid-skills", http.MethodGet, Prefix+"/skills/invalid", "Skills", "List invalid skills",
		"Every skill directory that is not served, sorted by id, with every problem found: manifest.json "+
			"missing, not JSON or violating the manifest schema; files unreadable or too large; a directory "+
			"name that is not a valid id; a symlink leaving the skills directory."),
		h.listInvalidSkills)

	huma.Register(api, op("get-skill", http.MethodGet, Prefix+"/skills/{id}", "Skills", "Get a skill",
		"One valid skill with its manifest fields and instructions (the text of skill.md, or \"\"). An "+
			"absent or invalid skill is 404 (for an invalid one, `details.errors` says why); a malformed id is 422.",
		http.StatusNotFound, http.StatusUnprocessableEntity),
		h.getSkill)
}

func (h skillsV2) listSkills(ctx context.Context, _ *struct{}) (*skillPageOutput, error) {
	all := h.cat.ListSkills()
	page := SkillPage{Items: make([]SkillItem, len(all))}
	for i, s := range all {
		page.Items[i] = SkillItem{
			ID: s.ID, Name: s.Name, Description: s.Description, Type: s.Type, Version: s.Version,
			AssignTo: s.AssignTo, Capabilities: s.Capabilities, Dependencies: s.Dependencies,
			Author: s.Author, License: s.License, Config: s.Config,
		}
	}
	return &skillPageOutput{Body: page}, nil
}

func (h skillsV2) listInvalidSkills(ctx context.Context, _ *struct{}) (*invalidSkillsOutput, error) {
	all := h.cat.InvalidSkills()
	out := InvalidSkillList{Items: make([]InvalidSkill, len(all))}
	for i, s := range all {
		out.Items[i] = InvalidSkill(s)
	}
	return &invalidSkillsOutput{Body: out}, nil
}

func (h skillsV2) getSkill(ctx context.Context, in *skillIDInput) (*skillOutput, error) {
	s, err := h.cat.GetSkill(in.ID)
	if err != nil {
		return nil, err
	}
	return &skillOutput{Body: s}, nil
}
