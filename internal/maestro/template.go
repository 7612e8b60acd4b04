package maestro

// Template is a prompt template for a role (SPEC §1.7). The two seeded defaults have IsDefault set.
type Template struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Role      string `json:"role"`
	Content   string `json:"content"`
	IsDefault bool   `json:"isDefault"`
	CreatedAt int64  `json:"createdAt"`
	UpdatedAt int64  `json:"updatedAt"`
}

// ValidRole reports whether role is one of the two roles templates and spawns accept.
func ValidRole(role string) bool {
	return role == RoleWorker || role == RoleOrchestrator
}

// TemplateCreate is the input of a template create; every field is required.
type TemplateCreate struct {
	Name    string
	Role    string
	Content string
}

// TemplatePatch is a template update: each non-nil field replaces the stored one, even when empty.
type TemplatePatch struct {
	Name    *string
	Content *string
}
