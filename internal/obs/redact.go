package obs

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
)

// Redacted replaces every secret the Redactor removes.
const Redacted = "[REDACTED]"

// Redactor removes secrets from log lines and error reports. It works in three ways, so that a secret
// is caught whichever way it reaches a log call:
//
//   - by value: the configured secrets themselves (API token, Sentry DSN and its key) are replaced
//     wherever they appear in a string, message or error;
//   - by shape: bearer credentials, ?token=-style query parameters, credentials in URLs
//     (scheme://user:pass@host, as in a Sentry DSN) and the query string of SQLite file: DSNs;
//   - by key: attributes named like a secret (authorization, token, password, secret, cookie, dsn,
//     api key) are replaced whole, and env / envVars maps keep their keys but lose their values
//     (session environments carry agents' credentials), at any depth of a logged struct or map.
//
// A Redactor is safe for concurrent use; Add may be called while logging.
type Redactor struct {
	secrets atomic.Pointer[[]string]
}

// NewRedactor returns a Redactor that knows the given secrets (empty ones are ignored).
func NewRedactor(secrets ...string) *Redactor {
	r := &Redactor{}
	r.secrets.Store(&[]string{})
	r.Add(secrets...)
	return r
}

// Add teaches r more secrets. A URL with credentials (a DSN) also adds its user name and password, so
// that the key alone is caught too. Values shorter than 6 characters are ignored: replacing them
// everywhere would mangle ordinary words without protecting anything worth the name.
func (r *Redactor) Add(secrets ...string) {
	for {
		old := r.secrets.Load()
		next := append([]string(nil), *old...)
		for _, s := range secrets {
			s = strings.TrimSpace(s)
			next = appendSecret(next, s)
			if u, err := url.Parse(s); err == nil && u.User != nil {
				next = appendSecret(next, u.User.Username())
				if p, ok := u.User.Password(); ok {
					next = appendSecret(next, p)
				}
			}
		}
		// Longest first, so that a secret containing another is replaced whole.
		sort.Slice(next, func(i, j int) bool { return len(next[i]) > len(next[j]) })
		if r.secrets.CompareAndSwap(old, &next) {
			return
		}
	}
}

func appendSecret(list []string, s string) []string {
	if len(s) < 6 {
		return list
	}
	for _, have := range list {
		if have == s {
			return list
		}
	}
	return append(list, s)
}

var (
	bearerRe   = regexp.MustCompile(`(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+`)
	queryRe    = regexp.MustCompile(`(?i)([?&;](?:token|access_token|api_key|apikey|api-key|key|password|secret|sentry_key|auth)=)[^&\s"'#;]+`)
	urlCredsRe = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@"'<>]+(?::[^/\s@"'<>]*)?@`)
	fileDSNRe  = regexp.MustCompile(`(file:[^?\s"']*)\?[^\s"']+`)
)

// String returns s with every known secret and every secret-shaped substring replaced.
func (r *Redactor) String(s string) string {
	if s == "" {
		return s
	}
	if r != nil {
		for _, sec := range *r.secrets.Load() {
			if strings.Contains(s, sec) {
				s = strings.ReplaceAll(s, sec, Redacted)
			}
		}
	}
	// Cheap checks first: the access log runs through here on every request.
	if strings.Contains(s, "earer ") || strings.Contains(s, "EARER ") || strings.Contains(s, "asic ") || strings.Contains(s, "ASIC ") {
		s = bearerRe.ReplaceAllString(s, "${1} "+Redacted)
	}
	if strings.Contains(s, "=") && strings.ContainsAny(s, "?&;") {
		s = queryRe.ReplaceAllString(s, "${1}"+Redacted)
		if strings.Contains(s, "file:") {
			s = fileDSNRe.ReplaceAllString(s, "${1}?"+Redacted)
		}
	}
	if strings.Contains(s, "@") && strings.Contains(s, "://") {
		s = urlCredsRe.ReplaceAllString(s, "${1}"+Redacted+"@")
	}
	return s
}

// keyNorm folds an attribute or header name for matching: lower case, without - _ and . separators.
var keyNorm = strings.NewReplacer("-", "", "_", "", ".", "")

// keyClass caches the class of every attribute key seen: the redaction runs on every log line and must
// not allocate for the common, harmless keys. Attribute keys come from code, so the set stays small;
// member names inside logged values may come from data (a map's keys), so those are classified
// without the cache (see scrubTree), which could otherwise grow without bound.
var keyClass sync.Map // string → uint8

const (
	keyPlain uint8 = iota
	keySecret
	keyEnv
)

// classify returns the class of an attribute key, through the cache.
func classify(key string) uint8 {
	if c, ok := keyClass.Load(key); ok {
		return c.(uint8)
	}
	c := classOf(key)
	keyClass.Store(key, c)
	return c
}

// classOf computes the class of a key.
func classOf(key string) uint8 {
	k := keyNorm.Replace(strings.ToLower(key))
	c := keyPlain
	switch k {
	case "env", "envvars", "environmentvariables", "environ":
		c = keyEnv
	default:
		for _, frag := range []string{"authorization", "token", "password", "passwd", "secret", "cookie", "dsn", "apikey", "credential", "privatekey"} {
			if strings.Contains(k, frag) {
				c = keySecret
				break
			}
		}
	}
	return c
}

// IsSecretKey reports whether an attribute or header named key holds a secret by its name alone.
func IsSecretKey(key string) bool { return classify(key) == keySecret }

// isEnvKey reports whether key names an environment map, whose values are redacted but keys kept.
func isEnvKey(key string) bool { return classify(key) == keyEnv }

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr that redacts a (see Redactor). slog passes the
// members of a group one by one, with the names of the groups they are in: inside an env group
// (slog.Group("env", …) or Logger.WithGroup("env")) every value is redacted, as in an env map.
func (r *Redactor) ReplaceAttr(groups []string, a slog.Attr) slog.Attr {
	for _, g := range groups {
		if isEnvKey(g) {
			return slog.String(a.Key, Redacted)
		}
	}
	if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
		return a
	}
	if IsSecretKey(a.Key) && a.Key != RequestIDKey {
		if a.Value.Kind() == slog.KindString && a.Value.String() == "" {
			return a
		}
		return slog.String(a.Key, Redacted)
	}
	v := a.Value
	switch v.Kind() {
	case slog.KindString:
		if isEnvKey(a.Key) {
			return slog.String(a.Key, Redacted)
		}
		if s := v.String(); s != "" {
			if red := r.String(s); red != s {
				return slog.String(a.Key, red)
			}
		}
		return a
	case slog.KindAny:
		return slog.Any(a.Key, r.scrubAny(a.Key, v.Any()))
	}
	return a
}

// scrubAny redacts an arbitrary logged value. Errors and Stringers become scrubbed strings; structs,
// maps and slices go through their JSON form (the form the JSON handler would print) so that nested
// secrets are found by key at any depth.
func (r *Redactor) scrubAny(key string, v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case error:
		return r.String(x.Error())
	case []byte:
		return r.String(string(x))
	case json.RawMessage:
		var generic any
		if json.Unmarshal(x, &generic) != nil {
			return r.String(string(x))
		}
		return r.scrubTree(key, generic)
	case fmt.Stringer:
		if _, isJSON := v.(json.Marshaler); !isJSON {
			return r.String(x.String())
		}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return r.String(fmt.Sprint(v))
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return r.String(string(raw))
	}
	return r.scrubTree(key, generic)
}

// scrubTree walks a decoded JSON value. key is the member name v was found under; member names may come
// from data, so they are classified without the cache.
func (r *Redactor) scrubTree(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		env := classOf(key) == keyEnv
		for k, val := range x {
			switch {
			case classOf(k) == keySecret:
				x[k] = Redacted
			case env:
				x[k] = Redacted
			default:
				x[k] = r.scrubTree(k, val)
			}
		}
		return x
	case []any:
		for i, val := range x {
			x[i] = r.scrubTree(key, val)
		}
		return x
	case string:
		if classOf(key) == keyEnv {
			return Redacted
		}
		return r.String(x)
	}
	return v
}
