package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/joho/godotenv"
)

// Config is every setting of the server, resolved and validated.
type Config struct {
	Host       string
	Port       int
	DataDir    string
	SessionDir string
	SkillsDir  string
	DBPath     string
	// ServerURL is the bare origin agents use to reach this server (MAESTRO_SERVER_URL of spawned
	// sessions). Empty means "derive it from the address actually bound".
	ServerURL string

	LogLevel      string
	LogFormat     string
	LogFile       string
	LogMaxSizeMB  int
	LogMaxAgeDays int
	LogMaxBackups int

	APIToken  string
	DebugAddr string
	SentryDSN string

	RateLimit      float64
	RateBurst      int
	MaxInFlight    int
	RequestTimeout time.Duration
	// ResponseCacheMB bounds the representation cache of v1 reads (0: off).
	ResponseCacheMB int
	// ResponseGzip offers the large cached responses gzip-compressed.
	ResponseGzip    bool
	ShutdownTimeout time.Duration
	CORSOrigins     []string
	WSOrigins       []string
	// AllowedHosts are the extra names the Host header may carry (ALLOWED_HOSTS); "*" allows any.
	AllowedHosts   []string
	EventRetention time.Duration
	// EventFlushTimeout bounds how long a write's reply waits for its events to be written to every live
	// socket (DESIGN §12); 0 means no wait.
	EventFlushTimeout time.Duration
	Environment       string
	// AuditRetention is how long audit log entries are kept.
	AuditRetention time.Duration
	// ReadyMinDiskFreeMB is the free space /readyz requires on the database's filesystem.
	ReadyMinDiskFreeMB int
	// BackupInterval is how often the server takes a scheduled backup (0: never); BackupKeep how many
	// backups DATA_DIR/backups keeps.
	BackupInterval time.Duration
	BackupKeep     int

	// Ignored lists the predecessor's variables that were set but have no effect here.
	Ignored []string

	// values are the resolved raw value of every setting, by environment name (for Changed).
	values map[string]string
	// src is where the configuration came from, for Reload.
	src *Source
}

// BackupDir is where backups go: DATA_DIR/backups.
func (c *Config) BackupDir() string { return filepath.Join(c.DataDir, "backups") }

// Addr is the listen address.
func (c *Config) Addr() string {
	return net.JoinHostPort(c.Host, fmt.Sprint(c.Port))
}

// IsLoopback reports whether Host only accepts connections from this machine.
func (c *Config) IsLoopback() bool { return isLoopbackHost(c.Host) }

// NeedsAllowedHosts reports whether the server listens on every interface while the Host header may
// only name it by loopback names and SERVER_URL's host: other machines then reach it but get 403 until
// ALLOWED_HOSTS names what they call it.
func (c *Config) NeedsAllowedHosts() bool { return isUnspecified(c.Host) && len(c.AllowedHosts) == 0 }

// HostNames are the names the Host header of a request may carry besides loopback ones (which are
// always allowed): HOST when it is a specific address or name, SERVER_URL's host, and ALLOWED_HOSTS.
func (c *Config) HostNames() []string {
	var out []string
	if h := c.Host; h != "" && !isUnspecified(h) {
		out = append(out, h)
	}
	if u, err := url.Parse(c.ServerURL); err == nil && u.Hostname() != "" {
		out = append(out, u.Hostname())
	}
	return append(out, c.AllowedHosts...)
}

// Problems is every reason a configuration was refused, one per line.
type Problems []string

func (p Problems) Error() string { return strings.Join(p, "\n") }

// Source describes where settings come from; the zero value reads nothing.
type Source struct {
	// Args are the command-line arguments after the subcommand.
	Args []string
	// LookupEnv reads the process environment (os.LookupEnv in production).
	LookupEnv func(string) (string, bool)
	// DotEnvPath is the .env file to read; missing files are fine.
	DotEnvPath string
	// Home is the home directory for ~ expansion.
	Home string
	// Usage receives the --help text.
	Usage io.Writer
}

// FromProcess returns the Source of a real process: its environment, ./.env and home directory.
func FromProcess(args []string) Source {
	home, _ := os.UserHomeDir()
	return Source{Args: args, LookupEnv: os.LookupEnv, DotEnvPath: ".env", Home: home, Usage: os.Stderr}
}

// ErrHelp is returned when --help was asked for (the usage has been written).
var ErrHelp = flag.ErrHelp

// Load resolves and validates the configuration. A *Problems error lists every invalid value.
func Load(src Source) (*Config, error) {
	if src.LookupEnv == nil {
		src.LookupEnv = func(string) (string, bool) { return "", false }
	}
	dotenv := map[string]string{}
	if src.DotEnvPath != "" {
		m, err := godotenv.Read(src.DotEnvPath)
		switch {
		case err == nil:
			dotenv = m
		case errors.Is(err, os.ErrNotExist):
		default:
			return nil, Problems{fmt.Sprintf("%s: %v", src.DotEnvPath, err)}
		}
	}

	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	if src.Usage != nil {
		fs.SetOutput(src.Usage)
	} else {
		fs.SetOutput(io.Discard)
	}
	flagVals := map[string]*string{}
	for _, s := range settings {
		flagVals[s.Env] = fs.String(s.flagName(), "", s.Help)
	}
	fs.Usage = func() { writeUsage(fs.Output()) }
	if err := fs.Parse(src.Args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, ErrHelp
		}
		return nil, Problems{err.Error()}
	}
	if fs.NArg() > 0 {
		return nil, Problems{fmt.Sprintf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	setFlags := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { setFlags[f.Name] = true })

	// raw resolves one setting by precedence: flag > environment > .env > default.
	raw := func(s setting) (string, bool) {
		if setFlags[s.flagName()] {
			return *flagVals[s.Env], true
		}
		if v, ok := src.LookupEnv(s.Env); ok {
			return v, true
		}
		if v, ok := dotenv[s.Env]; ok {
			return v, true
		}
		return s.Default, false
	}

	c := &Config{values: map[string]string{}}
	reloadSrc := src
	reloadSrc.Usage = nil
	c.src = &reloadSrc
	var probs Problems
	for _, s := range settings {
		v, set := raw(s)
		if s.Secret {
			if fileVal, fileSet := raw(setting{Env: s.Env + "_FILE"}); fileSet && fileVal != "" {
				if set && v != "" {
					probs = append(probs, fmt.Sprintf("%s and %s_FILE are both set; set only one", s.Env, s.Env))
					continue
				}
				b, err := os.ReadFile(expandHome(fileVal, src.Home))
				if err != nil {
					probs = append(probs, fmt.Sprintf("%s_FILE: %v", s.Env, err))
					continue
				}
				v = strings.TrimSpace(string(b))
			}
		}
		if s.Path {
			v = expandHome(v, src.Home)
		}
		c.values[s.Env] = strings.TrimSpace(v)
		if err := s.Apply(c, strings.TrimSpace(v)); err != nil {
			probs = append(probs, fmt.Sprintf("%s=%q: %v", s.Env, redactIf(s.Secret, v), err))
		}
	}
	for _, name := range ignoredVars {
		if _, ok := src.LookupEnv(name); ok {
			c.Ignored = append(c.Ignored, name)
		} else if _, ok := dotenv[name]; ok {
			c.Ignored = append(c.Ignored, name)
		}
	}
	sort.Strings(c.Ignored)
	c.derive()
	probs = append(probs, c.validate()...)
	if len(probs) > 0 {
		return nil, probs
	}
	return c, nil
}

// Reload loads the configuration again from the same sources as c (the same command-line arguments,
// the environment as it is now, the .env file as it is now), for SIGHUP. It fails like Load.
func (c *Config) Reload() (*Config, error) {
	if c.src == nil {
		return nil, errors.New("config: this configuration was not loaded from sources, so it cannot be reloaded")
	}
	return Load(*c.src)
}

// Changed lists the settings (by environment name, in --help order) whose values differ between c and
// next. It names secrets but never shows their values.
func (c *Config) Changed(next *Config) []string {
	var out []string
	for _, s := range settings {
		if c.values[s.Env] != next.values[s.Env] {
			out = append(out, s.Env)
		}
	}
	return out
}

// derive fills the settings whose defaults depend on others.
func (c *Config) derive() {
	if c.DBPath == "" {
		c.DBPath = filepath.Join(c.DataDir, "maestro.db")
	}
	if c.ServerURL == "" && c.Port != 0 {
		c.ServerURL = fmt.Sprintf("http://localhost:%d", c.Port)
	}
	c.ServerURL = strings.TrimRight(c.ServerURL, "/")
}

// validate checks the rules that span several settings.
func (c *Config) validate() Problems {
	var probs Problems
	if !c.IsLoopback() && c.APIToken == "" {
		probs = append(probs, fmt.Sprintf("HOST=%q is reachable from other machines: set MAESTRO_API_TOKEN (or MAESTRO_API_TOKEN_FILE) to bind it, or use 127.0.0.1", c.Host))
	}
	if c.APIToken == "" && slices.Contains(c.AllowedHosts, "*") {
		probs = append(probs, "ALLOWED_HOSTS=\"*\" lets any web page reach this server through DNS rebinding: set MAESTRO_API_TOKEN too, or list the host names")
	}
	if strings.ContainsAny(c.DBPath, "?#") {
		probs = append(probs, fmt.Sprintf("DB_PATH=%q: must not contain '?' or '#'", c.DBPath))
	}
	return probs
}

func expandHome(p, home string) string {
	if home == "" {
		return p
	}
	if p == "~" {
		return home
	}
	if strings.HasPrefix(p, "~/") {
		return filepath.Join(home, p[2:])
	}
	return p
}

func redactIf(secret bool, v string) string {
	if secret && v != "" {
		return "<redacted>"
	}
	return v
}
