package maestro

// Project groups tasks and sessions; its WorkingDir is where spawned agents start (SPEC §1.1).
type Project struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	WorkingDir  string `json:"workingDir"`
	Description string `json:"description"`
	CreatedAt   int64  `json:"createdAt"`
	UpdatedAt   int64  `json:"updatedAt"`
}

// ProjectCreate is the input of a project create. Only these keys are ever stored (D15).
type ProjectCreate struct {
	Name        string
	WorkingDir  string
	Description string
}

// ProjectPatch is a partial project update: nil fields are left alone.
type ProjectPatch struct {
	Name        *string
	WorkingDir  *string
	Description *string
}
