package v2

import (
	"cmp"
	"context"
	"net/http"
	"os"
	"path/filepath"

	"github.com/danielgtaylor/huma/v2"
	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/obs"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// adminData serves the data operations of the admin API: an online backup and the predecessor import.
// Both are gated by the admin-data flag.
type adminData struct{ d Deps }

// BackupInfo is the answer of POST /api/v2/admin/backup: a finished backup file.
type BackupInfo struct {
	Path          string `json:"path" doc:"Where the backup file is."`
	SizeBytes     int64  `json:"sizeBytes" doc:"Size of the file in bytes."`
	Integrity     string `json:"integrity" doc:"What PRAGMA integrity_check said about the copy: ok."`
	SchemaVersion int64  `json:"schemaVersion" doc:"The database schema (migration) version of the copy."`
	TakenAt       int64  `json:"takenAt" doc:"When the backup started, ms since the epoch: it holds every write committed before."`
	DurationMs    int64  `json:"durationMs" doc:"How long the backup took, in ms."`
}

func backupDTO(b maestro.BackupInfo) BackupInfo {
	return BackupInfo{Path: b.Path, SizeBytes: b.SizeBytes, Integrity: b.Integrity, SchemaVersion: b.SchemaVersion,
		TakenAt: b.TakenAt, DurationMs: b.DurationMs}
}

// ImportTally counts what an import did with the records of one entity.
type ImportTally struct {
	Imported int `json:"imported" doc:"New records stored."`
	Updated  int `json:"updated" doc:"Records already stored and overwritten (only with update)."`
	Existing int `json:"existing" doc:"Records already stored and left as they are."`
	Skipped  int `json:"skipped" doc:"Records read but not stored; each is listed in problems."`
	Corrupt  int `json:"corrupt" doc:"Files that could not be read as a record; each is listed in problems."`
}

// PredecessorProblem is one file or record an import reports.
type PredecessorProblem struct {
	Kind    string `json:"kind" enum:"corrupt,skipped,changed" doc:"corrupt: the file was skipped; skipped: the record cannot be held here; changed: imported with a change."`
	Entity  string `json:"entity" enum:"project,task,session,queue,template"`
	ID      string `json:"id,omitempty" doc:"The record's id, when it has one."`
	File    string `json:"file" doc:"The file, relative to the data directory."`
	Message string `json:"message" doc:"What was found and what the import did."`
}

// PredecessorReport is what a predecessor import did (or, with dryRun, would do). The command line's
// --json prints the same document.
type PredecessorReport struct {
	DryRun       bool                 `json:"dryRun"`
	Update       bool                 `json:"update"`
	Projects     ImportTally          `json:"projects"`
	Tasks        ImportTally          `json:"tasks"`
	Sessions     ImportTally          `json:"sessions"`
	Queues       ImportTally          `json:"queues"`
	Templates    ImportTally          `json:"templates"`
	Links        int                  `json:"links" doc:"Task-session links stored, each once (both sides read the same link)."`
	LinksDropped int                  `json:"linksDropped" doc:"Links naming a task or session that does not exist."`
	Events       int                  `json:"events" doc:"Session log entries stored."`
	Timeline     int                  `json:"timeline" doc:"Session timeline entries stored."`
	Problems     []PredecessorProblem `json:"problems" doc:"Every file and record the import reports."`
}

// PredecessorReportDTO is the wire form of an import report.
func PredecessorReportDTO(r maestro.PredecessorReport) PredecessorReport {
	tally := func(t maestro.ImportTally) ImportTally {
		return ImportTally{Imported: t.Imported, Updated: t.Updated, Existing: t.Existing, Skipped: t.Skipped, Corrupt: t.Corrupt}
	}
	out := PredecessorReport{
		DryRun: r.DryRun, Update: r.Update, Projects: tally(r.Projects), Tasks: tally(r.Tasks),
		Sessions: tally(r.Sessions), Queues: tally(r.Queues), Templates: tally(r.Templates),
		Links: r.Links, LinksDropped: r.LinksDropped, Events: r.Events, Timeline: r.Timeline,
		Problems: make([]PredecessorProblem, len(r.Problems)),
	}
	for i, p := range r.Problems {
		out.Problems[i] = PredecessorProblem{Kind: p.Kind, Entity: p.Entity, ID: p.ID, File: p.File, Message: p.Message}
	}
	return out
}

type backupOutput struct{ Body BackupInfo }

// PredecessorImportRequest is the body of POST /api/v2/admin/import.
type PredecessorImportRequest struct {
	From   string `json:"from" minLength:"1" doc:"The predecessor's data directory, on the server's machine (an absolute path)."`
	Update bool   `json:"update,omitempty" doc:"Overwrite records that are already stored with the files' values."`
	DryRun bool   `json:"dryRun,omitempty" doc:"Read, check and count everything; write nothing."`
}

type importPredecessorInput struct{ Body PredecessorImportRequest }

type importPredecessorOutput struct{ Body PredecessorReport }

// registerAdminData adds the data operations of the admin group. Like every admin operation they stay
// on while api-v2 is off; the admin-data flag gates them instead.
func registerAdminData(api huma.API, d Deps) {
	h := adminData{d: d}
	const tag = "Admin"
	huma.Register(api, ungated(op("admin-backup", http.MethodPost, Prefix+"/admin/backup", tag, "Take a backup",
		"Writes an online, consistent copy of the database (VACUUM INTO) into DATA_DIR/backups while the "+
			"server keeps serving writes, and answers its path, size and integrity result. The copy holds every write "+
			"committed before the backup started and passed PRAGMA integrity_check before this answers; a failed backup "+
			"leaves no file. The oldest backups beyond BACKUP_KEEP are deleted. Gated by the admin-data flag.",
		http.StatusServiceUnavailable)), h.backup)
	huma.Register(api, ungated(op("admin-import", http.MethodPost, Prefix+"/admin/import", tag, "Import the predecessor's data directory",
		"The same import as `maestro-server import --from DIR`, run by this server on its own database "+
			"(which it holds, so the command line refuses): the TypeScript predecessor's data directory `from` (a path on "+
			"the server's machine) is read in one transaction, with the predecessor loader's defaults; records already "+
			"stored are left alone (or overwritten with `update`); corrupt files and records this server cannot hold are "+
			"reported and skipped. Nothing is broadcast; one audit row records the counts. Gated by the admin-data flag.",
		http.StatusUnprocessableEntity, http.StatusServiceUnavailable)), h.importPredecessor)
}

func (h adminData) enabled(ctx context.Context) error {
	return h.d.Flags.Require(ctx, flags.AdminData)
}

func (h adminData) backup(ctx context.Context, _ *struct{}) (*backupOutput, error) {
	if err := h.enabled(ctx); err != nil {
		return nil, err
	}
	if h.d.Services == nil || h.d.Services.Backups == nil {
		return nil, maestro.Errorf(maestro.CodeNotImplemented, "backups are not available")
	}
	info, err := h.d.Services.Backups.Take(ctx, store.BackupManual)
	if err != nil {
		return nil, err
	}
	return &backupOutput{Body: backupDTO(info)}, nil
}

func (h adminData) importPredecessor(ctx context.Context, in *importPredecessorInput) (*importPredecessorOutput, error) {
	if err := h.enabled(ctx); err != nil {
		return nil, err
	}
	if h.d.Services == nil || h.d.Services.Predecessor == nil {
		return nil, maestro.Errorf(maestro.CodeNotImplemented, "the predecessor import is not available")
	}
	dir := in.Body.From
	if !filepath.IsAbs(dir) {
		return nil, maestro.InvalidField("from", "from must be an absolute path, not '%s'", dir)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, maestro.InvalidField("from", "from '%s' is not a directory on the server's machine", dir)
	}
	rep, err := h.d.Services.Predecessor.Import(ctx, os.DirFS(dir), maestro.PredecessorOptions{
		Update: in.Body.Update, DryRun: in.Body.DryRun,
		Actor: cmp.Or(obs.RequestInfoFrom(ctx).Actor(), "anonymous"), Method: http.MethodPost, Route: Prefix + "/admin/import",
	})
	if err != nil {
		return nil, err
	}
	return &importPredecessorOutput{Body: PredecessorReportDTO(rep)}, nil
}
