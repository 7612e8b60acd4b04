package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// setting declares one configuration value: its environment name (the flag is derived from it), default,
// help text and how it is parsed into Config.
type setting struct {
	Env     string
	Default string
	Help    string
	// Path settings get a leading ~ expanded.
	Path bool
	// Secret settings are never echoed and may come from <Env>_FILE instead.
	Secret bool
	Apply  func(c *Config, v string) error
}

func (s setting) flagName() string {
	return strings.ReplaceAll(strings.ToLower(s.Env), "_", "-")
}

// settings is every setting the server reads, in the order --help lists them.
var settings = []setting{
	{Env: "HOST", Default: "127.0.0.1", Help: "address to listen on; anything but loopback requires MAESTRO_API_TOKEN",
		Apply: func(c *Config, v string) error { c.Host = v; return nonEmpty(v) }},
	{Env: "PORT", Default: "3000", Help: "port to listen on (0 picks a free one)",
		Apply: func(c *Config, v string) (err error) { c.Port, err = intIn(v, 0, 65535); return }},
	{Env: "DATA_DIR", Default: "~/.maestro/data", Path: true, Help: "directory for the database and backups",
		Apply: func(c *Config, v string) error { c.DataDir = v; return nonEmpty(v) }},
	{Env: "DB_PATH", Default: "", Path: true, Help: "SQLite database file (default <DATA_DIR>/maestro.db)",
		Apply: func(c *Config, v string) error { c.DBPath = v; return nil }},
	{Env: "SESSION_DIR", Default: "~/.maestro/sessions", Path: true, Help: "directory where spawn writes <session>/manifest.json",
		Apply: func(c *Config, v string) error { c.SessionDir = v; return nonEmpty(v) }},
	{Env: "SKILLS_DIR", Default: "~/.agents-ui/maestro-skills", Path: true, Help: "directory of skills (<skill>/manifest.json, skill.md)",
		Apply: func(c *Config, v string) error { c.SkillsDir = v; return nonEmpty(v) }},
	{Env: "SERVER_URL", Default: "", Help: "bare origin agents use to reach this server (default http://localhost:<PORT>)",
		Apply: func(c *Config, v string) error { c.ServerURL = v; return origin(v) }},
	{Env: "LOG_LEVEL", Default: "info", Help: "debug, info, warn or error",
		Apply: func(c *Config, v string) error {
			c.LogLevel = strings.ToLower(v)
			return oneOf(c.LogLevel, "debug", "info", "warn", "error")
		}},
	{Env: "LOG_FORMAT", Default: "", Help: "json or text (default: text on a terminal, json otherwise; 'pretty' means text)",
		Apply: func(c *Config, v string) error {
			c.LogFormat = strings.ToLower(v)
			if c.LogFormat == "pretty" {
				c.LogFormat = "text"
			}
			return oneOf(c.LogFormat, "", "json", "text")
		}},
	{Env: "LOG_FILE", Default: "", Path: true, Help: "also write logs to this file, rotated (see LOG_MAX_*)",
		Apply: func(c *Config, v string) error { c.LogFile = v; return nil }},
	{Env: "LOG_MAX_SIZE_MB", Default: "100", Help: "rotate LOG_FILE when it reaches this many megabytes",
		Apply: func(c *Config, v string) (err error) { c.LogMaxSizeMB, err = intIn(v, 1, 1<<20); return }},
	{Env: "LOG_MAX_AGE_DAYS", Default: "28", Help: "delete rotated log files older than this many days (0 keeps them)",
		Apply: func(c *Config, v string) (err error) { c.LogMaxAgeDays, err = intIn(v, 0, 1<<16); return }},
	{Env: "LOG_MAX_BACKUPS", Default: "5", Help: "keep at most this many rotated log files (0 keeps all)",
		Apply: func(c *Config, v string) (err error) { c.LogMaxBackups, err = intIn(v, 0, 1<<16); return }},
	{Env: "MAESTRO_API_TOKEN", Default: "", Secret: true, Help: "bearer token required on every request but health checks (or MAESTRO_API_TOKEN_FILE)",
		Apply: func(c *Config, v string) error {
			c.APIToken = v
			if v != "" && len(v) < 16 {
				return errors.New("must be at least 16 characters")
			}
			return nil
		}},
	{Env: "DEBUG_ADDR", Default: "", Help: "loopback address of the pprof debug listener, e.g. 127.0.0.1:6060 (off when empty)",
		Apply: func(c *Config, v string) error { c.DebugAddr = v; return loopbackAddr(v) }},
	{Env: "SENTRY_DSN", Default: "", Secret: true, Help: "report panics and 5xx errors to this Sentry DSN (or SENTRY_DSN_FILE)",
		Apply: func(c *Config, v string) error { c.SentryDSN = v; return urlOrEmpty(v) }},
	{Env: "ENVIRONMENT", Default: "production", Help: "environment name reported to Sentry",
		Apply: func(c *Config, v string) error { c.Environment = v; return nil }},
	{Env: "RATE_LIMIT", Default: "200", Help: "requests per second allowed per client address beyond loopback (loopback clients are exempt; 0 disables)",
		Apply: func(c *Config, v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 {
				return errors.New("must be a number >= 0")
			}
			c.RateLimit = f
			return nil
		}},
	{Env: "RATE_BURST", Default: "400", Help: "requests a client may send at once above RATE_LIMIT",
		Apply: func(c *Config, v string) (err error) { c.RateBurst, err = intIn(v, 1, 1<<20); return }},
	{Env: "MAX_IN_FLIGHT", Default: "512", Help: "requests served at once; more get a fast 503",
		Apply: func(c *Config, v string) (err error) { c.MaxInFlight, err = intIn(v, 1, 1<<20); return }},
	{Env: "REQUEST_TIMEOUT", Default: "30s", Help: "deadline of one request",
		Apply: func(c *Config, v string) (err error) { c.RequestTimeout, err = durationMin(v, time.Second); return }},
	{Env: "RESPONSE_CACHE_MB", Default: "8", Help: "memory for the cache of encoded v1 task, project and session reads, emptied by every commit (0: off)",
		Apply: func(c *Config, v string) (err error) { c.ResponseCacheMB, err = intIn(v, 0, 1<<12); return }},
	{Env: "RESPONSE_GZIP", Default: "false", Help: "offer cached responses of 8 KiB or more gzip-compressed to clients that accept it",
		Apply: func(c *Config, v string) (err error) { c.ResponseGzip, err = strconv.ParseBool(v); return }},
	{Env: "SHUTDOWN_TIMEOUT", Default: "10s", Help: "how long shutdown waits for in-flight requests",
		Apply: func(c *Config, v string) (err error) { c.ShutdownTimeout, err = durationMin(v, 0); return }},
	{Env: "CORS_ORIGINS", Default: defaultUIOrigins, Help: "comma-separated origins allowed by CORS (* wildcards a port: http://localhost:*)",
		Apply: func(c *Config, v string) error { c.CORSOrigins = list(v); return noStar(c.CORSOrigins) }},
	{Env: "ALLOWED_HOSTS", Default: "", Help: "comma-separated host names requests may address besides loopback, HOST and SERVER_URL's host (DNS rebinding guard; * allows any, only with MAESTRO_API_TOKEN)",
		Apply: func(c *Config, v string) error { c.AllowedHosts = list(v); return hostNames(c.AllowedHosts) }},
	{Env: "WS_ORIGINS", Default: defaultUIOrigins, Help: "comma-separated origins allowed to open WebSockets (requests without Origin always are)",
		Apply: func(c *Config, v string) error { c.WSOrigins = list(v); return nil }},
	{Env: "EVENT_RETENTION", Default: "168h", Help: "how long events stay replayable (the newest 10,000 always are)",
		Apply: func(c *Config, v string) (err error) { c.EventRetention, err = durationMin(v, time.Minute); return }},
	{Env: "EVENT_FLUSH_TIMEOUT", Default: "100ms", Help: "how long a write's reply waits for its events to be written to every live WebSocket (0: no wait)",
		Apply: func(c *Config, v string) (err error) {
			c.EventFlushTimeout, err = durationIn(v, 0, 10*time.Second)
			return
		}},
	{Env: "AUDIT_RETENTION", Default: "2160h", Help: "how long audit log entries are kept (default 90 days)",
		Apply: func(c *Config, v string) (err error) { c.AuditRetention, err = durationMin(v, time.Hour); return }},
	{Env: "READY_MIN_DISK_FREE_MB", Default: "64", Help: "/readyz fails when the database's filesystem has less free space than this (0 disables the check)",
		Apply: func(c *Config, v string) (err error) { c.ReadyMinDiskFreeMB, err = intIn(v, 0, 1<<30); return }},
	{Env: "BACKUP_INTERVAL", Default: "0", Help: "take an online backup into DATA_DIR/backups this often, e.g. 24h (0 turns scheduled backups off)",
		Apply: func(c *Config, v string) (err error) {
			if v == "0" || v == "" {
				c.BackupInterval = 0
				return nil
			}
			c.BackupInterval, err = durationMin(v, time.Minute)
			return
		}},
	{Env: "BACKUP_KEEP", Default: "7", Help: "how many backups DATA_DIR/backups keeps (scheduled, API and pre-migration ones); the oldest are deleted",
		Apply: func(c *Config, v string) (err error) { c.BackupKeep, err = intIn(v, 1, 1<<16); return }},
}

// defaultUIOrigins are the desktop UI's origins (DESIGN §5).
const defaultUIOrigins = "tauri://localhost,http://tauri.localhost,https://tauri.localhost,http://localhost:*,https://localhost:*,http://127.0.0.1:*,https://127.0.0.1:*"

// ignoredVars are the predecessor's variables that are accepted but have no effect (SPEC §8).
var ignoredVars = []string{
	"DATABASE_TYPE", "DATABASE_URL", "MANIFEST_GENERATOR", "MAESTRO_CLI_PATH", "CORS_ENABLED",
	"CORS_CREDENTIALS", "DEBUG", "NODE_ENV",
}

func writeUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: maestro-server serve [flags]\n\n")
	fmt.Fprintf(w, "Every setting can be given as a flag, an environment variable or a line of ./.env,\n")
	fmt.Fprintf(w, "in that order of precedence. Secrets also accept <NAME>_FILE (a file holding the value).\n\n")
	for _, s := range settings {
		def := s.Default
		if def == "" {
			def = "(none)"
		}
		fmt.Fprintf(w, "  --%s / %s\n      %s\n      default: %s\n", s.flagName(), s.Env, s.Help, def)
	}
	fmt.Fprintf(w, "\nAccepted and ignored (predecessor settings): %s\n", strings.Join(ignoredVars, ", "))
}

func nonEmpty(v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func intIn(v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("must be an integer from %d to %d", lo, hi)
	}
	return n, nil
}

func durationMin(v string, lo time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < lo {
		return 0, fmt.Errorf("must be a duration of at least %s, like 30s or 168h", lo)
	}
	return d, nil
}

func durationIn(v string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		return 0, fmt.Errorf("must be a duration from %s to %s, like 100ms", lo, hi)
	}
	return d, nil
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	var shown []string
	for _, a := range allowed {
		if a != "" {
			shown = append(shown, a)
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(shown, ", "))
}

func origin(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("must be an http(s) origin like http://localhost:3000")
	}
	if strings.Trim(u.Path, "/") != "" {
		return errors.New("must be a bare origin without a path (clients append /api/...)")
	}
	return nil
}

func urlOrEmpty(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return errors.New("must be a URL")
	}
	return nil
}

func loopbackAddr(v string) error {
	if v == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("must be host:port: %v", err)
	}
	if !isLoopbackHost(host) {
		return errors.New("must be a loopback address (pprof must never be reachable from other machines)")
	}
	return nil
}

func list(v string) []string {
	out := []string{}
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// hostNames checks ALLOWED_HOSTS entries: host names or addresses, without scheme, path or port ("*" is
// checked against the token in validate).
func hostNames(hosts []string) error {
	for _, h := range hosts {
		if h == "*" {
			continue
		}
		if strings.ContainsAny(h, "/:@ ") && net.ParseIP(strings.Trim(h, "[]")) == nil {
			return fmt.Errorf("%q: list bare host names or addresses, without scheme, port or path", h)
		}
	}
	return nil
}

func noStar(origins []string) error {
	for _, o := range origins {
		if o == "*" {
			return errors.New("'*' is not allowed; list the origins")
		}
	}
	return nil
}
