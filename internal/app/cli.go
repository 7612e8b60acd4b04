package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/config"
	"github.com/maestro-hq/maestro-server/internal/httpapi"
	"github.com/maestro-hq/maestro-server/internal/store"
)

// Exit codes: 0 success, 1 failure, 2 invalid usage or configuration.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2
)

const usage = `Usage: maestro-server [command] [flags]

Commands:
  serve                 run the server (default)
  migrate up|down|status
                        apply, roll back one, or list database migrations
  import --from DIR [--update] [--dry-run] [--json]
                        import the TypeScript predecessor's data directory (server stopped)
  backup FILE           write an online, integrity-checked copy of the database (server may run)
  restore FILE          replace the database with a backup (server stopped; keeps the old one)
  flags list|set KEY on|off|unset KEY|import FILE
                        show or change feature flags (also while the server runs)
  openapi --version 1|2 print the OpenAPI document of an API version (YAML; --json for JSON)
  events-schema         print the JSON Schema of every WebSocket event (api/events.schema.json)
  version               print the version

Run 'maestro-server serve --help' for every setting (flags, environment, .env).
`

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		cfg, code := loadConfig(args, stderr)
		if cfg == nil {
			return code
		}
		if err := Serve(cfg, stderr); err != nil {
			fmt.Fprintf(stderr, "maestro-server: %v\n", err)
			return exitFail
		}
		return exitOK
	case "migrate":
		return migrateCmd(args, stdout, stderr)
	case "flags":
		return flagsCmd(args, stdout, stderr)
	case "import":
		return importCmd(args, stdout, stderr)
	case "backup":
		return backupCmd(args, stdout, stderr)
	case "restore":
		return restoreCmd(args, stdout, stderr)
	case "openapi":
		return openapiCmd(args, stdout, stderr)
	case "events-schema":
		return eventsSchemaCmd(stdout, stderr)
	case "version":
		fmt.Fprintf(stdout, "maestro-server %s\n", Version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "maestro-server: unknown command %q\n\n%s", cmd, usage)
		return exitConfig
	}
}

// loadConfig loads the configuration from args and the process; on failure it prints one line per
// problem and returns a nil Config with the exit code.
func loadConfig(args []string, stderr io.Writer) (*config.Config, int) {
	src := config.FromProcess(args)
	src.Usage = stderr
	cfg, err := config.Load(src)
	if errors.Is(err, config.ErrHelp) {
		return nil, exitOK
	}
	var probs config.Problems
	if errors.As(err, &probs) {
		for _, p := range probs {
			fmt.Fprintf(stderr, "maestro-server: config: %s\n", p)
		}
		return nil, exitConfig
	}
	if err != nil {
		fmt.Fprintf(stderr, "maestro-server: config: %v\n", err)
		return nil, exitConfig
	}
	return cfg, exitOK
}

// splitSubcommand separates a leading word (e.g. "up") from the flags after it.
func splitSubcommand(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

func migrateCmd(args []string, stdout, stderr io.Writer) int {
	sub, rest := splitSubcommand(args)
	if sub != "up" && sub != "down" && sub != "status" {
		fmt.Fprintf(stderr, "usage: maestro-server migrate up|down|status [serve flags]\n")
		return exitConfig
	}
	cfg, code := loadConfig(rest, stderr)
	if cfg == nil {
		return code
	}
	ctx := context.Background()
	// Changing the schema under a running server would break it: up and down take the database's lock
	// (and refuse while a server holds it); status only reads.
	if sub != "status" {
		lock, err := store.LockDB(cfg.DBPath, "migrate")
		if err != nil {
			fmt.Fprintf(stderr, "maestro-server: %v\n", inUseHint(err))
			return exitFail
		}
		defer func() { _ = lock.Unlock() }()
	}
	st, err := store.Open(ctx, store.Options{Path: cfg.DBPath, NoMigrate: true})
	if err != nil {
		fmt.Fprintf(stderr, "maestro-server: %v\n", err)
		return exitFail
	}
	defer st.Close()
	switch sub {
	case "up":
		n, err := st.MigrateUp(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "maestro-server: %v\n", err)
			return exitFail
		}
		fmt.Fprintf(stdout, "applied %d migration(s)\n", n)
	case "down":
		if err := st.MigrateDown(ctx); err != nil {
			fmt.Fprintf(stderr, "maestro-server: %v\n", err)
			return exitFail
		}
		fmt.Fprintln(stdout, "rolled back one migration")
	case "status":
		sts, err := st.MigrationStatuses(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "maestro-server: %v\n", err)
			return exitFail
		}
		for _, m := range sts {
			state := "pending"
			if m.Applied {
				state = "applied " + m.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			fmt.Fprintf(stdout, "%05d  %-28s %s\n", m.Version, m.Source, state)
		}
	}
	return exitOK
}

func openapiCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("openapi", flag.ContinueOnError)
	fs.SetOutput(stderr)
	version := fs.Int("version", 1, "API version (1 or 2)")
	asJSON := fs.Bool("json", false, "print JSON instead of YAML")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	doc, err := OpenAPI(*version, *asJSON)
	if err != nil {
		fmt.Fprintf(stderr, "maestro-server: %v\n", err)
		return exitConfig
	}
	_, _ = stdout.Write(doc)
	return exitOK
}

func eventsSchemaCmd(stdout, stderr io.Writer) int {
	doc, err := httpapi.EventsSchema()
	if err != nil {
		fmt.Fprintf(stderr, "maestro-server: %v\n", err)
		return exitFail
	}
	_, _ = stdout.Write(doc)
	return exitOK
}
