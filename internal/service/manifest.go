package service

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// Fixed agent settings of every manifest the server writes (the predecessor's CLI wrote the same).
const (
	manifestModel          = "sonnet"
	manifestPermissionMode = "acceptEdits"
	manifestThinkingMode   = "auto"
	defaultCriterion       = "Task completion as described"
)

// manifestFileName is the name of the manifest inside <SESSION_DIR>/<sessionId>/.
const manifestFileName = "manifest.json"

// buildManifest makes the manifest of a spawn (SPEC §4.4): the tasks in request order, the fixed agent
// settings with the project's working directory, custom.taskIds, the requested skills ([] when none,
// never the predecessor's [""]) and the role's template id when there is one. It fails when a task's
// priority is one the CLI's schema refuses.
func buildManifest(role, strategy string, project maestro.Project, tasks []maestro.Task, skills []string, templateID string) (maestro.Manifest, error) {
	m := maestro.Manifest{
		ManifestVersion: maestro.ManifestVersion,
		Role:            role,
		Tasks:           make([]maestro.ManifestTask, 0, len(tasks)),
		Session: maestro.ManifestSession{
			Model: manifestModel, PermissionMode: manifestPermissionMode, ThinkingMode: manifestThinkingMode,
			WorkingDirectory: project.WorkingDir,
		},
		Context:    maestro.ManifestContext{Custom: maestro.ManifestCustom{TaskIDs: make([]string, 0, len(tasks))}},
		Skills:     orEmpty(skills),
		Strategy:   strategy,
		TemplateID: templateID,
	}
	for _, t := range tasks {
		if t.Priority != "" && !maestro.ValidManifestPriority(t.Priority) {
			return m, fmt.Errorf("task %s has priority %q; a manifest allows only low, medium, high or critical", t.ID, t.Priority)
		}
		m.Tasks = append(m.Tasks, maestro.ManifestTask{
			ID: t.ID, Title: t.Title, Description: t.Description,
			// Tasks have no acceptance criteria of their own in this server, so every task gets the
			// predecessor's default single criterion (the schema requires at least one).
			AcceptanceCriteria: []string{defaultCriterion},
			ProjectID:          t.ProjectID,
			CreatedAt:          isoMillis(t.CreatedAt),
			ParentID:           t.ParentID,
			Dependencies:       orEmpty(t.Dependencies),
			Priority:           t.Priority,
		})
		m.Context.Custom.TaskIDs = append(m.Context.Custom.TaskIDs, t.ID)
	}
	return m, nil
}

// isoMillis formats ms since the epoch as JavaScript's Date.toISOString does: UTC, milliseconds, "Z".
func isoMillis(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
}

// encodeManifest renders a manifest as the predecessor did (JSON.stringify(m, null, 2)): two-space
// indent, no HTML escaping, no trailing newline.
func encodeManifest(m maestro.Manifest) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// writeManifest writes data to <root>/<sessionID>/manifest.json atomically (a temporary file in the same
// directory, synced, then renamed over the final name), creating the directories it needs. It returns
// the absolute path and an undo function that removes the file, and the session directory too when this
// call created it. A failure leaves nothing behind.
func writeManifest(root, sessionID string, data []byte) (path string, undo func(), err error) {
	if root == "" {
		return "", nil, errors.New("no session directory is configured (SESSION_DIR)")
	}
	dir := filepath.Join(root, sessionID)
	createdDir := false
	if _, statErr := os.Stat(dir); errors.Is(statErr, fs.ErrNotExist) {
		createdDir = true
	}
	// Manifests are read by the agent's CLI running as the same user; 0755/0644 match what the
	// predecessor (Node with the usual umask) produced.
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	removeDir := func() {
		if createdDir {
			_ = os.Remove(dir) // only removes it when empty, never someone else's files
		}
	}
	tmp, err := os.CreateTemp(dir, ".manifest-*.tmp")
	if err != nil {
		removeDir()
		return "", nil, err
	}
	fail := func(err error) (string, func(), error) {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		removeDir()
		return "", nil, err
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		return fail(err)
	}
	path = filepath.Join(dir, manifestFileName)
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		removeDir()
		return "", nil, err
	}
	return path, func() {
		_ = os.Remove(path)
		removeDir()
	}, nil
}
