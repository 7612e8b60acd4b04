package flags

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/maestro-hq/maestro-server/internal/maestro"
)

// parseFlagd reads a flagd flag definition document, the format ops already know from flagd:
//
//	{"flags": {"api-v2": {"state": "ENABLED", "variants": {"on": true, "off": false}, "defaultVariant": "off"}}}
//
// Each flag's value is its default variant. A flag with state DISABLED is returned to its coded default,
// which is what flagd does with a disabled flag (the application's default applies). Only what a
// static boolean flag needs is accepted: targeting rules (per-flag `targeting` other than an empty
// object, or shared `$evaluators`) are refused, because this server evaluates every flag the same for
// every caller; so are unknown keys, non-boolean variants and flags this server does not have. Every
// problem is reported, each naming its flag, and nothing is applied when there is one.
func parseFlagd(doc []byte) ([]change, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, importError([]string{"not a flagd JSON document: " + err.Error()})
	}
	var problems []string
	for _, k := range sortedKeys(top) {
		switch k {
		case "flags", "$schema", "metadata":
		case "$evaluators":
			problems = append(problems, "$evaluators: shared targeting rules are not supported (flags here have no targeting)")
		default:
			problems = append(problems, fmt.Sprintf("unknown top-level key %q (expected flags, $schema, metadata)", k))
		}
	}
	var flagDocs map[string]json.RawMessage
	if raw, ok := top["flags"]; !ok {
		problems = append(problems, `no "flags" object`)
	} else if err := json.Unmarshal(raw, &flagDocs); err != nil || flagDocs == nil {
		problems = append(problems, `"flags" must be an object of flag definitions`)
	} else if len(flagDocs) == 0 {
		problems = append(problems, `"flags" is empty: nothing to import`)
	}
	var changes []change
	for _, key := range sortedKeys(flagDocs) {
		c, errs := parseFlagdFlag(key, flagDocs[key])
		for _, e := range errs {
			problems = append(problems, fmt.Sprintf("flag %q: %s", key, e))
		}
		if len(errs) == 0 {
			changes = append(changes, c)
		}
	}
	if len(problems) > 0 {
		return nil, importError(problems)
	}
	return changes, nil
}

func parseFlagdFlag(key string, raw json.RawMessage) (change, []string) {
	c := change{Key: key}
	var errs []string
	if _, ok := Lookup(key); !ok {
		errs = append(errs, "not a flag of this server (flags: "+strings.Join(Keys(), ", ")+")")
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil || f == nil {
		return c, append(errs, "must be an object with state, variants and defaultVariant")
	}
	for _, k := range sortedKeys(f) {
		switch k {
		case "state", "variants", "defaultVariant", "metadata":
		case "targeting":
			if t := bytes.TrimSpace(f[k]); !bytes.Equal(t, []byte("{}")) && !bytes.Equal(t, []byte("null")) {
				errs = append(errs, "targeting is not supported: a flag here has one value for every caller (remove targeting)")
			}
		default:
			errs = append(errs, fmt.Sprintf("unknown key %q (expected state, variants, defaultVariant, targeting, metadata)", k))
		}
	}
	var state string
	if err := json.Unmarshal(f["state"], &state); err != nil || (state != "ENABLED" && state != "DISABLED") {
		errs = append(errs, `state must be "ENABLED" or "DISABLED"`)
	}
	var variants map[string]json.RawMessage
	if err := json.Unmarshal(f["variants"], &variants); err != nil || len(variants) == 0 {
		errs = append(errs, "variants must be a non-empty object of boolean values")
	}
	for _, name := range sortedKeys(variants) {
		var b bool
		if err := json.Unmarshal(variants[name], &b); err != nil {
			errs = append(errs, fmt.Sprintf("variant %q is %s, not a boolean (flags here are boolean)", name, variants[name]))
		}
	}
	var def string
	if err := json.Unmarshal(f["defaultVariant"], &def); err != nil || def == "" {
		errs = append(errs, "defaultVariant must name one of the variants")
	} else if _, ok := variants[def]; !ok && len(variants) > 0 {
		errs = append(errs, fmt.Sprintf("defaultVariant %q is not one of the variants (%s)", def, strings.Join(sortedKeys(variants), ", ")))
	}
	if len(errs) > 0 {
		return c, errs
	}
	if state == "DISABLED" {
		c.Unset = true
		return c, nil
	}
	_ = json.Unmarshal(variants[def], &c.Enabled) // checked above
	return c, nil
}

func importError(problems []string) error {
	return &maestro.Error{
		Code:    maestro.CodeValidation,
		Message: "flags import refused, nothing was changed: " + strings.Join(problems, "; "),
		Details: map[string]any{"problems": problems},
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
