// Package skills owns the skills directory (SKILLS_DIR): it reads each skill (a subdirectory with a
// manifest.json and an optional skill.md), validates the manifest against the server's embedded JSON
// Schema, keeps the last good set in memory, watches the directory and reloads it when it changes, and
// records a skills:changed event in the store's outbox after every reload that changed something.
//
// The Loader implements maestro.SkillCatalog for the HTTP handlers and maestro.HealthReporter for
// /health. Reads are served from an immutable in-memory snapshot, so a request never touches the disk
// (except POST /api/skills/{id}/reload, which re-reads one skill on purpose).
//
// It must not write to the skills directory, must never follow a path or symlink out of the skills root
// (D13), and must not let one bad skill affect any other: an invalid skill is reported with its errors
// and skipped, and a missing or unreadable directory keeps the last good set and degrades health. It
// does not store skills in the database; only the change event goes there.
package skills
