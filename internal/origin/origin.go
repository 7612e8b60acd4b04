package origin

import (
	"strings"
)

// Matcher holds a list of origin patterns.
type Matcher struct {
	exact    map[string]struct{}
	anyPort  []string // "scheme://host" prefixes of ":*" patterns
	patterns []string
}

// New compiles patterns (case-insensitive).
func New(patterns []string) *Matcher {
	m := &Matcher{exact: map[string]struct{}{}, patterns: patterns}
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimRight(strings.TrimSpace(p), "/"))
		if prefix, ok := strings.CutSuffix(p, ":*"); ok {
			m.anyPort = append(m.anyPort, prefix)
			continue
		}
		m.exact[p] = struct{}{}
	}
	return m
}

// Patterns returns the configured patterns.
func (m *Matcher) Patterns() []string { return m.patterns }

// Allowed reports whether origin matches one of the patterns.
func (m *Matcher) Allowed(origin string) bool {
	o := strings.ToLower(origin)
	if _, ok := m.exact[o]; ok {
		return true
	}
	for _, prefix := range m.anyPort {
		rest, ok := strings.CutPrefix(o, prefix)
		if !ok {
			continue
		}
		if rest == "" {
			return true
		}
		if port, ok := strings.CutPrefix(rest, ":"); ok && port != "" && allDigits(port) {
			return true
		}
	}
	return false
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
