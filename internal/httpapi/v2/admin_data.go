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

type backupOutput struct{ Body maestro.BackupInfo }

// PredecessorImportRequest is the body of POST /api/v2/admin/import.
type PredecessorImportRequest struct {
	From   string `json:"from" minLength:"1" doc:"The predecessor's data directory, on the server's machine (an absolute path)."`
	Update bool   `json:"update,omitempty" doc:"Overwrite records that are already stored with the files' values."`
	DryRun bool   `json:"dryRun,omitempty" doc:"Read, check and count everything; write nothing."`
}

type importPredecessorInput struct{ Body PredecessorImportRequest }

type importPredecessorOutput struct{ Body maestro.PredecessorReport }

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
	return &backupOutput{Body: info}, nil
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
	return &importPredecessorOutput{Body: rep}, nil
}
