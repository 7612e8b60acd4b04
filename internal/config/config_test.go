package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func envOf(kv ...string) func(string) (string, bool) {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoad_Defaults(t *testing.T) {
	t.Parallel()
	c, err := Load(Source{Home: "/home/u"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr() != "127.0.0.1:3000" {
		t.Errorf("addr = %s", c.Addr())
	}
	if c.DataDir != "/home/u/.maestro/data" || c.DBPath != "/home/u/.maestro/data/maestro.db" {
		t.Errorf("data dir %s, db %s", c.DataDir, c.DBPath)
	}
	if c.SessionDir != "/home/u/.maestro/sessions" || c.SkillsDir != "/home/u/.agents-ui/maestro-skills" {
		t.Errorf("session dir %s, skills dir %s", c.SessionDir, c.SkillsDir)
	}
	if c.ServerURL != "http://localhost:3000" || c.LogLevel != "info" || c.EventRetention != 168*time.Hour {
		t.Errorf("server url %s, level %s, retention %s", c.ServerURL, c.LogLevel, c.EventRetention)
	}
	if len(c.CORSOrigins) == 0 || len(c.WSOrigins) == 0 {
		t.Error("UI origins missing by default")
	}
	if c.EventFlushTimeout != 100*time.Millisecond {
		t.Errorf("event flush timeout %s, want 100ms", c.EventFlushTimeout)
	}
}

// TestLoad_EventFlushTimeout: 0 switches the wait off, and the bound stays small.
func TestLoad_EventFlushTimeout(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true}, {"250ms", 250 * time.Millisecond, true}, {"10s", 10 * time.Second, true},
		{"-1ms", 0, false}, {"11s", 0, false}, {"soon", 0, false},
	} {
		c, err := Load(Source{Home: "/h", LookupEnv: envOf("EVENT_FLUSH_TIMEOUT", tc.v)})
		if (err == nil) != tc.ok {
			t.Errorf("EVENT_FLUSH_TIMEOUT=%s: err = %v", tc.v, err)
			continue
		}
		if tc.ok && c.EventFlushTimeout != tc.want {
			t.Errorf("EVENT_FLUSH_TIMEOUT=%s: got %s", tc.v, c.EventFlushTimeout)
		}
	}
}

// TestLoad_Precedence checks flags > environment > .env > defaults, setting by setting.
func TestLoad_Precedence(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dotenv := filepath.Join(dir, ".env")
	if err := os.WriteFile(dotenv, []byte("PORT=4001\nLOG_LEVEL=debug\nDATA_DIR=~/from-dotenv\nSESSION_DIR=/s/dotenv\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Source{
		Args:       []string{"--port", "4003"},
		LookupEnv:  envOf("PORT", "4002", "LOG_LEVEL", "warn"),
		DotEnvPath: dotenv,
		Home:       "/h",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 4003 {
		t.Errorf("port %d: the flag must win", c.Port)
	}
	if c.LogLevel != "warn" {
		t.Errorf("level %s: the environment must beat .env", c.LogLevel)
	}
	if c.DataDir != "/h/from-dotenv" || c.DBPath != "/h/from-dotenv/maestro.db" {
		t.Errorf("data dir %s / db %s: .env must beat the default, with ~ expanded", c.DataDir, c.DBPath)
	}
	if c.SessionDir != "/s/dotenv" {
		t.Errorf("session dir %s", c.SessionDir)
	}
	if c.ServerURL != "http://localhost:4003" {
		t.Errorf("server url %s must follow the effective port", c.ServerURL)
	}
}

func TestLoad_Problems(t *testing.T) {
	t.Parallel()
	_, err := Load(Source{LookupEnv: envOf(
		"PORT", "70000", "LOG_LEVEL", "loud", "SERVER_URL", "http://x/api", "EVENT_RETENTION", "soon",
		"DEBUG_ADDR", "0.0.0.0:6060", "CORS_ORIGINS", "*",
	)})
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v", err)
	}
	for _, name := range []string{"PORT", "LOG_LEVEL", "SERVER_URL", "EVENT_RETENTION", "DEBUG_ADDR", "CORS_ORIGINS"} {
		found := false
		for _, p := range probs {
			if strings.HasPrefix(p, name+"=") {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem reported for %s in %q", name, probs)
		}
	}
}

func TestLoad_NonLoopbackNeedsToken(t *testing.T) {
	t.Parallel()
	_, err := Load(Source{LookupEnv: envOf("HOST", "0.0.0.0")})
	if err == nil || !strings.Contains(err.Error(), "MAESTRO_API_TOKEN") {
		t.Fatalf("err = %v", err)
	}
	c, err := Load(Source{LookupEnv: envOf("HOST", "0.0.0.0", "MAESTRO_API_TOKEN", "0123456789abcdef0123")})
	if err != nil || c.APIToken == "" {
		t.Fatalf("with a token: %v", err)
	}
	for _, host := range []string{"127.0.0.1", "localhost", "::1"} {
		if _, err := Load(Source{LookupEnv: envOf("HOST", host)}); err != nil {
			t.Errorf("HOST=%s: %v", host, err)
		}
	}
}

func TestLoad_SecretFromFileNeverEchoed(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(f, []byte("s3cr3t-token-value-long\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(Source{LookupEnv: envOf("MAESTRO_API_TOKEN_FILE", f)})
	if err != nil || c.APIToken != "s3cr3t-token-value-long" {
		t.Fatalf("token %q, %v", c.APIToken, err)
	}
	_, err = Load(Source{LookupEnv: envOf("MAESTRO_API_TOKEN", "short-secret")})
	if err == nil || strings.Contains(err.Error(), "short-secret") {
		t.Fatalf("a bad secret must be reported without its value: %v", err)
	}
	_, err = Load(Source{LookupEnv: envOf("MAESTRO_API_TOKEN", "0123456789abcdef0", "MAESTRO_API_TOKEN_FILE", f)})
	if err == nil {
		t.Fatal("both the value and _FILE accepted")
	}
}

func TestLoad_IgnoredPredecessorVars(t *testing.T) {
	t.Parallel()
	c, err := Load(Source{LookupEnv: envOf("NODE_ENV", "production", "DATABASE_TYPE", "postgres")})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Ignored, ",") != "DATABASE_TYPE,NODE_ENV" {
		t.Errorf("ignored = %v", c.Ignored)
	}
}

func TestLoad_Help(t *testing.T) {
	t.Parallel()
	var out strings.Builder
	_, err := Load(Source{Args: []string{"--help"}, Usage: &out})
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("err = %v", err)
	}
	for _, s := range settings {
		if !strings.Contains(out.String(), s.Env) || !strings.Contains(out.String(), "--"+s.flagName()) {
			t.Errorf("--help does not list %s", s.Env)
		}
	}
}

func TestLoad_UnknownFlag(t *testing.T) {
	t.Parallel()
	_, err := Load(Source{Args: []string{"--nope"}})
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v", err)
	}
}

// TestLoad_AllowedHosts: ALLOWED_HOSTS adds host names to those of HOST and SERVER_URL; "*" is refused
// without a token (any page could then reach the server through DNS rebinding), and entries with a port
// or a scheme are refused.
func TestLoad_AllowedHosts(t *testing.T) {
	t.Parallel()
	c, err := Load(Source{LookupEnv: envOf("HOST", "127.0.0.1", "SERVER_URL", "http://maestro.lan:3000",
		"ALLOWED_HOSTS", "box.local, 192.168.1.9")})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(c.HostNames(), ",")
	if got != "127.0.0.1,maestro.lan,box.local,192.168.1.9" {
		t.Errorf("HostNames() = %s", got)
	}
	c, err = Load(Source{LookupEnv: envOf("HOST", "0.0.0.0", "MAESTRO_API_TOKEN", "0123456789abcdef0123")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(c.HostNames(), ","); got != "localhost" {
		t.Errorf("HostNames() with HOST=0.0.0.0 = %s, want only SERVER_URL's localhost", got)
	}
	for _, bad := range []string{"http://box.local", "box.local:3000", "a/b"} {
		if _, err := Load(Source{LookupEnv: envOf("ALLOWED_HOSTS", bad)}); err == nil || !strings.Contains(err.Error(), "ALLOWED_HOSTS") {
			t.Errorf("ALLOWED_HOSTS=%s: err = %v", bad, err)
		}
	}
	if _, err := Load(Source{LookupEnv: envOf("ALLOWED_HOSTS", "*")}); err == nil || !strings.Contains(err.Error(), "MAESTRO_API_TOKEN") {
		t.Errorf("ALLOWED_HOSTS=* without a token: err = %v", err)
	}
	if _, err := Load(Source{LookupEnv: envOf("ALLOWED_HOSTS", "*", "MAESTRO_API_TOKEN", "0123456789abcdef0123")}); err != nil {
		t.Errorf("ALLOWED_HOSTS=* with a token: %v", err)
	}
}

func TestLoad_Backups(t *testing.T) {
	t.Parallel()
	c, err := Load(Source{Home: "/h"})
	if err != nil {
		t.Fatal(err)
	}
	if c.BackupInterval != 0 || c.BackupKeep != 7 || c.BackupDir() != "/h/.maestro/data/backups" {
		t.Errorf("defaults: interval %s, keep %d, dir %s", c.BackupInterval, c.BackupKeep, c.BackupDir())
	}
	c, err = Load(Source{Home: "/h", LookupEnv: envOf("BACKUP_INTERVAL", "24h", "BACKUP_KEEP", "3", "DATA_DIR", "/d")})
	if err != nil {
		t.Fatal(err)
	}
	if c.BackupInterval != 24*time.Hour || c.BackupKeep != 3 || c.BackupDir() != "/d/backups" {
		t.Errorf("set: interval %s, keep %d, dir %s", c.BackupInterval, c.BackupKeep, c.BackupDir())
	}
	for _, bad := range [][]string{{"BACKUP_INTERVAL", "30s"}, {"BACKUP_INTERVAL", "daily"}, {"BACKUP_KEEP", "0"}} {
		_, err := Load(Source{Home: "/h", LookupEnv: envOf(bad...)})
		var probs Problems
		if !errors.As(err, &probs) || !strings.HasPrefix(probs[0], bad[0]+"=") {
			t.Errorf("%s=%s: %v", bad[0], bad[1], err)
		}
	}
}
