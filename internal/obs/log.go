package obs

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/mattn/go-isatty"
)

// LogOptions configure NewLogger.
type LogOptions struct {
	// Level is debug, info, warn or error.
	Level string
	// Format is json or text; empty picks text on a terminal and json otherwise.
	Format string
	// Out is where logs go; os.Stderr when nil.
	Out io.Writer
}

// Logger is the process logger plus the level it can change at run time.
type Logger struct {
	*slog.Logger
	Level *slog.LevelVar
}

// ParseLevel parses debug|info|warn|error.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(s))); err != nil {
		return 0, fmt.Errorf("unknown log level %q (want debug, info, warn or error)", s)
	}
	return l, nil
}

// NewLogger builds the slog logger described by o.
func NewLogger(o LogOptions) (*Logger, error) {
	if o.Out == nil {
		o.Out = os.Stderr
	}
	lvl := new(slog.LevelVar)
	if o.Level != "" {
		l, err := ParseLevel(o.Level)
		if err != nil {
			return nil, err
		}
		lvl.Set(l)
	}
	format := o.Format
	if format == "" {
		format = "json"
		if f, ok := o.Out.(*os.File); ok && isatty.IsTerminal(f.Fd()) {
			format = "text"
		}
	}
	hopts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	if format == "text" {
		h = slog.NewTextHandler(o.Out, hopts)
	} else {
		h = slog.NewJSONHandler(o.Out, hopts)
	}
	return &Logger{Logger: slog.New(h), Level: lvl}, nil
}
