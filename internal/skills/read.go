package skills

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// File names inside a skill directory and the most of each the loader reads. The limits keep a stray
// huge file from eating memory; a file over its limit makes the skill invalid.
const (
	manifestFile     = "manifest.json"
	instructionsFile = "skill.md"
	maxManifestBytes = 1 << 20
	maxInstructions  = 8 << 20
)

// entry is one skill directory as last read: either a valid skill or the reasons it is invalid.
type entry struct {
	id     string
	path   string
	skill  maestro.SkillDetail // set when errs is empty
	errs   []string
	digest [sha256.Size]byte // of everything read, to tell a real change from a no-op event
}

func (e *entry) valid() bool { return len(e.errs) == 0 }

// dir is the skills root opened for one scan. os.Root confines every access to the root, symlinks
// included, so a skill can never read outside it even if a link is swapped between check and read
// (D13); realPath lets the loader name an escaping symlink in a clear message first.
type dir struct {
	path     string
	realPath string
	root     *os.Root
}

// openDir opens the skills root. The error wraps fs.ErrNotExist when the directory is missing.
func openDir(path string) (*dir, error) {
	r, err := os.OpenRoot(path)
	if err != nil {
		return nil, err
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		_ = r.Close()
		return nil, err
	}
	return &dir{path: path, realPath: real, root: r}, nil
}

func (d *dir) close() { _ = d.root.Close() }

// list returns the names of the candidate skill directories, sorted: every entry that is a directory
// or a symlink, except hidden ones (".git", editor state), which are never skills. Plain files at the
// top level (a README) are ignored.
func (d *dir) list() ([]string, error) {
	f, err := d.root.Open(".")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if e.IsDir() || e.Type()&fs.ModeSymlink != 0 {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// read reads the skill in directory name. ok is false when there is no such skill directory at all
// (absent, or not a directory); otherwise the entry is valid or lists why it is not.
func (d *dir) read(name string) (e *entry, ok bool) {
	e = &entry{id: name, path: filepath.Join(d.path, name)}
	h := sha256.New()
	if err := maestro.ValidateSkillID(name); err != nil {
		e.errs = []string{"the directory name is not a valid skill id: use 1-128 letters, digits, '.', '_' or '-'"}
		return e.seal(h), true
	}
	if strings.HasPrefix(name, ".") {
		return nil, false
	}
	rel, err := d.resolve(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, lerr := os.Lstat(e.path); lerr == nil {
			e.errs = []string{name + " is a symlink to something that does not exist"}
			return e.seal(h), true
		}
		return nil, false
	case err != nil:
		e.errs = []string{"skill directory: " + describe(err)}
		return e.seal(h), true
	}
	fi, err := d.root.Stat(rel)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, false
	case err != nil:
		e.errs = []string{"skill directory: " + describe(err)}
		return e.seal(h), true
	case !fi.IsDir():
		return nil, false
	}

	data, err := d.readFile(filepath.Join(name, manifestFile), maxManifestBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		e.errs = []string{"manifest.json is missing"}
		return e.seal(h), true
	case err != nil:
		e.errs = []string{"manifest.json: " + describe(err)}
		return e.seal(h), true
	}
	h.Write(data)
	m, errs := parseManifest(data)

	instr, err := d.readFile(filepath.Join(name, instructionsFile), maxInstructions)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		instr = nil
	case err != nil:
		errs = append(errs, "skill.md: "+describe(err))
	}
	h.Write([]byte{0})
	h.Write(instr)
	if len(errs) > 0 {
		e.errs = errs
		return e.seal(h), true
	}
	e.skill = detail(name, m, string(instr))
	return e.seal(h), true
}

// seal finishes the digest: what was read plus the verdict, so a change of validity or of the reasons
// is a change too.
func (e *entry) seal(h hash.Hash) *entry {
	for _, msg := range e.errs {
		fmt.Fprintf(h, "\x00%s", msg)
	}
	copy(e.digest[:], h.Sum(nil))
	return e
}

// escapeError says that a path under the root is, or passes through, a symlink leading out of it.
type escapeError struct{ rel string }

func (e *escapeError) Error() string {
	return e.rel + " is a symlink that leaves the skills directory; skills must stay inside it"
}

// resolve follows the symlinks of rel (a path below the root) and returns the resolved path relative
// to the root, or an *escapeError when it leads outside. Symlinks that stay inside are fine, absolute
// or relative. The read that follows still goes through os.Root, which refuses any escape that a link
// swapped in after this check would attempt.
func (d *dir) resolve(rel string) (string, error) {
	target, err := filepath.EvalSymlinks(filepath.Join(d.path, rel))
	if err != nil {
		return "", err
	}
	if !within(d.realPath, target) {
		return "", &escapeError{rel: rel}
	}
	return filepath.Rel(d.realPath, target)
}

// within reports whether path is root or below it (both already free of symlinks).
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// readFile reads rel (below the root) through the root, refusing files over limit bytes and anything
// that is not a regular file.
func (d *dir) readFile(rel string, limit int64) ([]byte, error) {
	real, err := d.resolve(rel)
	if err != nil {
		return nil, err
	}
	f, err := d.root.Open(real)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	return data, nil
}

// describe turns a file error into a short message without the server's absolute paths.
func describe(err error) string {
	var esc *escapeError
	if errors.As(err, &esc) {
		return esc.Error()
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if errors.Is(err, fs.ErrPermission) {
		return "cannot be read: permission denied"
	}
	return "cannot be read: " + err.Error()
}

// detail builds the served form of a valid skill with the SPEC §5 defaults: name||id,
// description||"", type||"system", version||"1.0.0"; lists are never null.
func detail(id string, m manifest, instructions string) maestro.SkillDetail {
	s := maestro.SkillDetail{
		SkillSummary: maestro.SkillSummary{
			ID: id, Name: or(m.Name, id), Description: m.Description,
			Type: or(m.Type, "system"), Version: or(m.Version, "1.0.0"),
		},
		AssignTo: list(m.AssignTo), Capabilities: list(m.Capabilities), Dependencies: list(m.Dependencies),
		Author: m.Author, License: m.License, Config: m.Config, Instructions: instructions,
	}
	if s.Config == nil {
		s.Config = map[string]any{}
	}
	return s
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func list(items []string) []string {
	if items == nil {
		return []string{}
	}
	return items
}
