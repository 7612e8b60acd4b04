package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/maestro-hq/maestro-server/internal/flags"
	"github.com/maestro-hq/maestro-server/internal/maestro"
	"github.com/maestro-hq/maestro-server/internal/store"
)

const flagsUsage = `usage: maestro-server flags <command> [serve flags]

  flags list               every flag: value, default, source, who set it
  flags set KEY on|off     set a flag
  flags unset KEY          return a flag to its default
  flags import FILE        apply a flagd JSON file (state/variants/defaultVariant; no targeting), all or nothing

The commands write the database (DB_PATH, or DATA_DIR/maestro.db: the same settings as serve) directly,
also while the server runs: it picks the change up within a second and broadcasts flag:updated.
`

// flagsCmd runs `maestro-server flags ...`.
func flagsCmd(args []string, stdout, stderr io.Writer) int {
	sub, rest := splitSubcommand(args)
	// Positional arguments come before the serve flags: `flags set api-v2 off --db-path x.db`.
	var pos []string
	for len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		pos, rest = append(pos, rest[0]), rest[1:]
	}
	want := map[string]int{"list": 0, "set": 2, "unset": 1, "import": 1}
	n, ok := want[sub]
	if !ok || len(pos) != n {
		fmt.Fprint(stderr, flagsUsage)
		return exitConfig
	}
	var enabled bool
	if sub == "set" {
		var err error
		if enabled, err = parseOnOff(pos[1]); err != nil {
			fmt.Fprintf(stderr, "maestro-server: flags set: %v\n", err)
			return exitConfig
		}
	}
	var doc []byte
	if sub == "import" {
		var err error
		if doc, err = os.ReadFile(pos[0]); err != nil {
			fmt.Fprintf(stderr, "maestro-server: flags import: %v\n", err)
			return exitFail
		}
	}
	cfg, code := loadConfig(rest, stderr)
	if cfg == nil {
		return code
	}
	ctx := context.Background()
	st, err := openForFlags(ctx, cfg.DBPath)
	if err != nil {
		fmt.Fprintf(stderr, "maestro-server: %v\n", err)
		return exitFail
	}
	defer st.Close()
	admin := flags.NewAdmin(st, nil)
	origin := cliOrigin(sub)
	ctx = maestro.WithRequestID(ctx, origin.RequestID)

	var changed []flags.State
	switch sub {
	case "list":
		states, err := admin.List(ctx)
		if err != nil {
			return flagsFailed(stderr, sub, err)
		}
		printFlags(stdout, states)
		return exitOK
	case "set":
		s, err := admin.Set(ctx, pos[0], enabled, origin)
		if err != nil {
			return flagsFailed(stderr, sub, err)
		}
		changed = []flags.State{s}
	case "unset":
		s, err := admin.Unset(ctx, pos[0], origin)
		if err != nil {
			return flagsFailed(stderr, sub, err)
		}
		changed = []flags.State{s}
	case "import":
		if changed, err = admin.Import(ctx, doc, origin); err != nil {
			return flagsFailed(stderr, sub, err)
		}
	}
	for _, s := range changed {
		fmt.Fprintf(stdout, "%s: %s (%s)\n", s.Key, onOff(s.Enabled), describeSource(s))
	}
	return exitOK
}

// flagsFailed reports a failed flags command: the domain message alone for a user error (unknown flag,
// refused import), the whole error otherwise.
func flagsFailed(stderr io.Writer, sub string, err error) int {
	var me *maestro.Error
	if errors.As(err, &me) && me.Code != maestro.CodeInternal {
		fmt.Fprintf(stderr, "maestro-server: flags %s: %s\n", sub, me.Message)
		return exitConfig
	}
	fmt.Fprintf(stderr, "maestro-server: flags %s: %v\n", sub, err)
	return exitFail
}

// cliOrigin says "this OS user, from the command line" for updatedBy and the audit log.
func cliOrigin(sub string) flags.Origin {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	} else if env := os.Getenv("USER"); env != "" {
		name = env
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return flags.Origin{
		Actor: "cli:" + name, Method: "CLI", Route: "maestro-server flags " + sub,
		RequestID: "cli-" + hex.EncodeToString(b[:]),
	}
}

func parseOnOff(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "true", "enabled", "1":
		return true, nil
	case "off", "false", "disabled", "0":
		return false, nil
	}
	return false, fmt.Errorf("value %q: want on or off", s)
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func describeSource(s flags.State) string {
	if s.Source == flags.SourceDefault {
		return "default"
	}
	return fmt.Sprintf("set by %s at %s; default %s", s.UpdatedBy,
		time.UnixMilli(s.UpdatedAt).UTC().Format(time.RFC3339), onOff(s.Default))
}

func printFlags(w io.Writer, states []flags.State) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tVALUE\tDEFAULT\tSOURCE\tUPDATED BY\tUPDATED AT\tDESCRIPTION")
	for _, s := range states {
		by, at := "-", "-"
		if s.Source == flags.SourceDB {
			by, at = s.UpdatedBy, time.UnixMilli(s.UpdatedAt).UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Key, onOff(s.Enabled), onOff(s.Default), s.Source, by, at, s.Description)
	}
	_ = tw.Flush()
}

// openForFlags opens the database for the flags command, which runs beside a live server. It migrates
// only a brand-new database: migrating one in use could change the schema under a running server of
// another version, so a schema that is not this binary's is refused with what to do instead.
func openForFlags(ctx context.Context, path string) (*store.Store, error) {
	st, err := store.Open(ctx, store.Options{Path: path, NoMigrate: true})
	if err != nil {
		return nil, err
	}
	current, latest, err := st.SchemaVersions(ctx)
	switch {
	case err != nil:
	case current == 0:
		_, err = st.MigrateUp(ctx)
	case current != latest:
		err = fmt.Errorf("database %s is at schema version %d and this binary expects %d: use the maestro-server "+
			"binary the server runs, or stop the server and run 'maestro-server migrate up' first", path, current, latest)
	}
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	return st, nil
}
