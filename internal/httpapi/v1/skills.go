package v1

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// SkillReloaded is the body of a skill reload: the summary plus `reloaded: true`.
type SkillReloaded struct {
	maestro.SkillSummary
	Reloaded bool `json:"reloaded" doc:"Always true."`
}

type skillIDInput struct {
	ID string `path:"id" doc:"Skill id: the name of the skill's directory under SKILLS_DIR (1-128 of A-Z a-z 0-9 . _ -, not . or ..)."`
}

type skillRoleInput struct {
	Role string `path:"role" doc:"worker or orchestrator."`
}

type skillsOutput struct{ Body []maestro.SkillSummary }

type skillOutput struct{ Body maestro.Skill }

type skillReloadedOutput struct{ Body SkillReloaded }

// skillsV1 holds what the Skills operations need; each method serves one of them and is named
// after its operation ID.
type skillsV1 struct {
	cat maestro.SkillCatalog
}

func registerSkills(api huma.API, d Deps) {
	cat := d.Skills
	if cat == nil {
		cat = maestro.NoSkills{}
	}
	const tag = "Skills"

	h := skillsV1{cat: cat}
	huma.Register(api, op("list-skills", http.MethodGet, Prefix+"/skills", tag, "List skills",
		"Every valid skill under SKILLS_DIR, sorted by directory name. Invalid skills (unparseable or "+
			"schema-violating manifest.json, unreadable files) are left out; `GET /api/v2/skills/invalid` lists "+
			"them with their errors. A missing skills directory is an empty list."),
		h.listSkills)

	// The role route has one more path segment than /skills/{id}, so the two never compete; a request
	// for /skills/role is the skill whose id is "role" (SPEC §2.2).
	huma.Register(api, op("list-role-skills", http.MethodGet, Prefix+"/skills/role/{role}", tag, "Skills of a role",
		"The skills a session of this role gets: worker → maestro-cli, maestro-worker; orchestrator → "+
			"maestro-cli, maestro-orchestrator; each only if present and valid. Here `id` and `name` are both "+
			"the manifest's name. Another role is 400 VALIDATION_ERROR.",
		http.StatusBadRequest),
		h.listRoleSkills)

	huma.Register(api, op("get-skill", http.MethodGet, Prefix+"/skills/{id}", tag, "Get a skill",
		"The skill's summary and its instructions (the text of skill.md, or \"\"). An absent or invalid "+
			"skill is 404 `Skill not found: <id>` (for an invalid one, `details.errors` says why); an id "+
			"outside the allowed pattern is 400 VALIDATION_ERROR.",
		http.StatusBadRequest, http.StatusNotFound),
		h.getSkill)

	huma.Register(api, op("reload-skill", http.MethodPost, Prefix+"/skills/{id}/reload", tag, "Reload a skill",
		"Rereads the skill from disk now (the server also reloads changed skills by itself within about a "+
			"second) and broadcasts `skills:changed` when it changed. Errors as for GET.",
		http.StatusBadRequest, http.StatusNotFound),
		h.reloadSkill)
}

func (h skillsV1) listSkills(ctx context.Context, _ *struct{}) (*skillsOutput, error) {
	all := h.cat.ListSkills()
	out := make([]maestro.SkillSummary, len(all))
	for i, s := range all {
		out[i] = s.SkillSummary
	}
	return &skillsOutput{Body: out}, nil
}

func (h skillsV1) listRoleSkills(ctx context.Context, in *skillRoleInput) (*skillsOutput, error) {
	skills, err := h.cat.SkillsForRole(in.Role)
	if err != nil {
		return nil, err
	}
	out := make([]maestro.SkillSummary, len(skills))
	for i, s := range skills {
		out[i] = s.SkillSummary
		// The predecessor reports the manifest name as the id on this route, without a fallback.
		out[i].ID = s.Name
	}
	return &skillsOutput{Body: out}, nil
}

func (h skillsV1) getSkill(ctx context.Context, in *skillIDInput) (*skillOutput, error) {
	s, err := h.cat.GetSkill(in.ID)
	if err != nil {
		return nil, err
	}
	return &skillOutput{Body: maestro.Skill{SkillSummary: s.SkillSummary, Instructions: s.Instructions}}, nil
}

func (h skillsV1) reloadSkill(ctx context.Context, in *skillIDInput) (*skillReloadedOutput, error) {
	s, err := h.cat.ReloadSkill(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &skillReloadedOutput{Body: SkillReloaded{SkillSummary: s.SkillSummary, Reloaded: true}}, nil
}
