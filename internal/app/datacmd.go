package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/maestro-hq/maestro-server/internal/config"
	v2 "github.com/maestro-hq/maestro-server/internal/httpapi/v2"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/service"
	"github.com/maestro-hq/maestro-server/internal/store"
)

const importUsage = `usage: maestro-server import --from DIR [--update] [--dry-run] [--json] [serve flags]

  Reads the TypeScript predecessor's data directory DIR (projects/, tasks/, sessions/, queues/,
  templates/) into the database (DB_PATH, or DATA_DIR/maestro.db), in one transaction.

  --update    overwrite records that are already stored with the files' values (default: leave them)
  --dry-run   read, check and count everything, write nothing
  --json      print the report as JSON

The server must not be running on the database: stop it first.
`

// cmdFlags takes the command's own flags out of args and returns them with the rest (the serve flags
// that loadConfig reads). bools are flags without a value; values take one (--name V or --name=V).
func cmdFlags(args []string, bools, values []string) (map[string]string, []string, error) {
	got := map[string]string{}
	var rest []string
	is := func(list []string, name string) bool {
		for _, n := range list {
			if n == name {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch {
		case is(bools, name):
			if hasVal {
				return nil, nil, fmt.Errorf("--%s takes no value", name)
			}
			got[name] = "true"
		case is(values, name):
			if !hasVal {
				if i+1 >= len(args) {
					return nil, nil, fmt.Errorf("--%s needs a value", name)
				}
				i++
				val = args[i]
			}
			got[name] = val
		default:
			rest = append(rest, a)
		}
	}
	return got, rest, nil
}

// importCmd runs `maestro-server import --from DIR`.
func importCmd(args []string, stdout, stderr io.Writer) int {
	fl, rest, err := cmdFlags(args, []string{"update", "dry-run", "json"}, []string{"from"})
	if err != nil || fl["from"] == "" || len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		if err != nil {
			fmt.Fprintf(stderr, "maestro-server: import: %v\n", err)
		}
		fmt.Fprint(stderr, importUsage)
		return exitConfig
	}
	dir := fl["from"]
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "maestro-server: import: %s is not a directory\n", dir)
		return exitConfig
	}
	cfg, code := loadConfig(rest, stderr)
	if cfg == nil {
		return code
	}
	opts := maestro.PredecessorOptions{Update: fl["update"] != "", DryRun: fl["dry-run"] != ""}
	origin := cliOrigin("import")
	opts.Actor, opts.Method, opts.Route = origin.Actor, origin.Method, "maestro-server import"
	ctx := maestro.WithRequestID(context.Background(), origin.RequestID)
	rep, err := runImport(ctx, cfg, os.DirFS(dir), opts)
	if err != nil {
		fmt.Fprintf(stderr, "maestro-server: import: %v\n", err)
		return exitFail
	}
	if fl["json"] != "" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v2.PredecessorReportDTO(rep))
		return exitOK
	}
	printImportReport(stdout, dir, cfg.DBPath, rep)
	return exitOK
}

// runImport takes the database's lock (refusing while a server runs on it), opens the database and
// imports. A real import migrates the database like serve does; a dry run writes nothing at all: it
// imports into a scratch database when there is none yet, and refuses a database that would need a
// migration first.
func runImport(ctx context.Context, cfg *config.Config, fsys fs.FS, opts maestro.PredecessorOptions) (maestro.PredecessorReport, error) {
	path := cfg.DBPath
	_, statErr := os.Stat(path)
	if opts.DryRun && errors.Is(statErr, fs.ErrNotExist) {
		scratch, err := os.MkdirTemp("", "maestro-import-dry-run-")
		if err != nil {
			return maestro.PredecessorReport{}, err
		}
		defer os.RemoveAll(scratch)
		path = filepath.Join(scratch, "maestro.db")
	} else {
		lock, err := store.LockDB(path, "import")
		if errors.Is(err, store.ErrInUse) {
			return maestro.PredecessorReport{}, fmt.Errorf("%w; stop the server first, or let it import: "+
				`POST /api/v2/admin/import {"from": "<absolute path>"}`, err)
		}
		if err != nil {
			return maestro.PredecessorReport{}, err
		}
		defer func() { _ = lock.Unlock() }()
	}
	st, err := store.Open(ctx, store.Options{
		Path: path, NoMigrate: opts.DryRun && path == cfg.DBPath, BackupDir: cfg.BackupDir(), BackupKeep: cfg.BackupKeep,
	})
	if err != nil {
		return maestro.PredecessorReport{}, err
	}
	defer st.Close()
	if ok, cur, latest, err := st.MigrationsCurrent(ctx); err != nil {
		return maestro.PredecessorReport{}, err
	} else if !ok {
		return maestro.PredecessorReport{}, fmt.Errorf("database %s is at schema version %d and this binary expects %d: "+
			"a dry run does not migrate; run 'maestro-server migrate up' first", path, cur, latest)
	}
	svcs := service.New(st, service.Options{Logger: discardLogger()})
	return svcs.Predecessor.Import(ctx, fsys, opts)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// inUseHint adds what to do to a refusal because a server holds the database.
func inUseHint(err error) error {
	if errors.Is(err, store.ErrInUse) {
		return fmt.Errorf("%w; stop the server first", err)
	}
	return err
}

func printImportReport(w io.Writer, dir, db string, rep maestro.PredecessorReport) {
	verb := "imported"
	if rep.DryRun {
		verb = "dry run (nothing written): would import"
	}
	fmt.Fprintf(w, "%s %s into %s\n\n", verb, dir, db)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\timported\tupdated\texisting\tskipped\tcorrupt\t")
	for _, row := range []struct {
		name string
		t    maestro.ImportTally
	}{{"projects", rep.Projects}, {"tasks", rep.Tasks}, {"sessions", rep.Sessions}, {"queues", rep.Queues}, {"templates", rep.Templates}} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t\n", row.name, row.t.Imported, row.t.Updated, row.t.Existing, row.t.Skipped, row.t.Corrupt)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\nlinks: %d imported, %d dropped; session entries: %d events, %d timeline\n",
		rep.Links, rep.LinksDropped, rep.Events, rep.Timeline)
	if len(rep.Problems) > 0 {
		fmt.Fprintf(w, "\n%d reported:\n", len(rep.Problems))
		for _, p := range rep.Problems {
			id := ""
			if p.ID != "" {
				id = " " + p.ID
			}
			fmt.Fprintf(w, "  %-8s %s%s (%s): %s\n", p.Kind, p.Entity, id, p.File, p.Message)
		}
	}
}

const backupUsage = `usage: maestro-server backup FILE [serve flags]

  Writes an online, consistent copy of the database (DB_PATH, or DATA_DIR/maestro.db) to FILE while the
  server keeps serving. The copy must pass PRAGMA integrity_check before it is reported; a failed
  backup leaves no file. FILE must not exist.
`

// backupCmd runs `maestro-server backup FILE`.
func backupCmd(args []string, stdout, stderr io.Writer) int {
	file, rest := splitSubcommand(args)
	if file == "" {
		fmt.Fprint(stderr, backupUsage)
		return exitConfig
	}
	cfg, code := loadConfig(rest, stderr)
	if cfg == nil {
		return code
	}
	if _, err := os.Stat(cfg.DBPath); err != nil {
		fmt.Fprintf(stderr, "maestro-server: backup: no database at %s\n", cfg.DBPath)
		return exitFail
	}
	ctx := context.Background()
	// NoMigrate: a backup runs beside a live server and must never change its schema.
	st, err := store.Open(ctx, store.Options{Path: cfg.DBPath, NoMigrate: true})
	if err != nil {
		fmt.Fprintf(stderr, "maestro-server: backup: %v\n", err)
		return exitFail
	}
	defer st.Close()
	info, err := st.Backup(ctx, file)
	if err != nil {
		fmt.Fprintf(stderr, "maestro-server: backup: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "backup of %s written to %s: %d bytes, integrity %s, schema version %d, %d ms\n",
		cfg.DBPath, info.Path, info.SizeBytes, info.Integrity, info.SchemaVersion, info.DurationMs)
	return exitOK
}

const restoreUsage = `usage: maestro-server restore FILE [serve flags]

  Replaces the database (DB_PATH, or DATA_DIR/maestro.db) with the backup FILE. The server must be
  stopped. FILE must be an SQLite database of this server that passes PRAGMA integrity_check, at a
  schema version no newer than this binary's. The current database is kept as
  <db>.before-restore-<time>.
`

// restoreCmd runs `maestro-server restore FILE`.
func restoreCmd(args []string, stdout, stderr io.Writer) int {
	file, rest := splitSubcommand(args)
	if file == "" {
		fmt.Fprint(stderr, restoreUsage)
		return exitConfig
	}
	cfg, code := loadConfig(rest, stderr)
	if cfg == nil {
		return code
	}
	res, err := store.Restore(context.Background(), file, cfg.DBPath, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "maestro-server: restore: %v\n", inUseHint(err))
		return exitFail
	}
	fmt.Fprintf(stdout, "restored %s into %s (schema version %d; this binary's is %d)\n", file, cfg.DBPath, res.SchemaVersion, res.Latest)
	if res.Previous != "" {
		fmt.Fprintf(stdout, "the previous database is kept as %s\n", res.Previous)
	}
	if res.SchemaVersion < res.Latest {
		fmt.Fprintln(stdout, "the next start migrates it to this binary's schema (after a backup)")
	}
	return exitOK
}
