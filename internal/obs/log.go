package obs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
	"gopkg.in/natefinch/lumberjack.v2"
)

// LogOptions configure NewLogger.
type LogOptions struct {
	// Level is debug, info, warn or error (info when empty).
	Level string
	// Format is json or text; empty picks text on a terminal and json otherwise.
	Format string
	// Out is where logs go; os.Stderr when nil.
	Out io.Writer

	// File, when set, receives every line as well, rotated by size. It is written as JSON unless
	// Format is text, so that the file stays machine-readable whatever the terminal shows.
	File string
	// MaxSizeMB rotates File when it reaches this size (lumberjack's minimum unit is a megabyte).
	MaxSizeMB int
	// MaxAgeDays deletes rotated files older than this (0 keeps them).
	MaxAgeDays int
	// MaxBackups keeps at most this many rotated files (0 keeps all).
	MaxBackups int

	// Redactor scrubs secrets from every line; a Redactor with no known secrets is used when nil
	// (it still removes bearer tokens, ?token= values, URL credentials and sensitive keys).
	Redactor *Redactor
}

// Logger is the process logger plus the level it can change at run time.
type Logger struct {
	*slog.Logger
	// Level is shared by every handler of the logger: setting it changes what is logged at once.
	Level *slog.LevelVar

	file *lumberjack.Logger
}

// ParseLevel parses debug|info|warn|error.
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
}

// LevelName is the lower-case name of l as ParseLevel accepts it.
func LevelName(l slog.Level) string {
	switch {
	case l < slog.LevelInfo:
		return "debug"
	case l < slog.LevelWarn:
		return "info"
	case l < slog.LevelError:
		return "warn"
	}
	return "error"
}

// NewLogger builds the slog logger described by o: one handler for Out and, with a File, one for the
// rotated file, both behind the same level, the same redaction and the request-ID context handler.
func NewLogger(o LogOptions) (*Logger, error) {
	if o.Out == nil {
		o.Out = os.Stderr
	}
	if o.Redactor == nil {
		o.Redactor = NewRedactor()
	}
	lvl := new(slog.LevelVar)
	l, err := ParseLevel(o.Level)
	if err != nil {
		return nil, err
	}
	lvl.Set(l)
	format := strings.ToLower(o.Format)
	if format == "" {
		format = "json"
		if f, ok := o.Out.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			format = "text"
		}
	}
	if format != "json" && format != "text" {
		return nil, fmt.Errorf("unknown log format %q (want json or text)", o.Format)
	}
	hopts := &slog.HandlerOptions{Level: lvl, ReplaceAttr: o.Redactor.ReplaceAttr}
	handlers := []slog.Handler{newHandler(format, o.Out, hopts)}

	out := &Logger{Level: lvl}
	if o.File != "" {
		out.file = &lumberjack.Logger{
			Filename: o.File, MaxSize: max(o.MaxSizeMB, 1), MaxAge: o.MaxAgeDays, MaxBackups: o.MaxBackups,
		}
		// Open the file now, so that an unwritable LOG_FILE fails the start instead of every line.
		if _, err := out.file.Write(nil); err != nil {
			return nil, fmt.Errorf("log file %s: %w", o.File, err)
		}
		fileFormat := "json"
		if strings.ToLower(o.Format) == "text" {
			fileFormat = "text"
		}
		handlers = append(handlers, newHandler(fileFormat, out.file, hopts))
	}
	var h slog.Handler = handlers[0]
	if len(handlers) > 1 {
		h = fanout(handlers)
	}
	out.Logger = slog.New(NewContextHandler(h))
	return out, nil
}

func newHandler(format string, w io.Writer, o *slog.HandlerOptions) slog.Handler {
	if format == "text" {
		return slog.NewTextHandler(w, o)
	}
	return slog.NewJSONHandler(w, o)
}

// SetLevel changes the level at run time and returns the previous one.
func (l *Logger) SetLevel(name string) (old slog.Level, err error) {
	nl, err := ParseLevel(name)
	if err != nil {
		return 0, err
	}
	old = l.Level.Level()
	l.Level.Set(nl)
	return old, nil
}

// Close closes the log file, if any. Lines logged afterwards still reach Out; lumberjack reopens the
// file on the next write, so a late line is not lost either.
func (l *Logger) Close() error {
	if l.file == nil {
		return nil
	}
	return l.file.Close()
}

// fanout sends every record to each handler that accepts its level.
type fanout []slog.Handler

func (f fanout) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanout) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (f fanout) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (f fanout) WithGroup(name string) slog.Handler {
	out := make(fanout, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}
