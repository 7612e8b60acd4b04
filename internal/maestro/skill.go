package maestro

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
