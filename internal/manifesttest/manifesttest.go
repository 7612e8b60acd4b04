package manifesttest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

//go:embed testdata/manifest.schema.json testdata/manifests/*.json
var files embed.FS

var (
	compileOnce sync.Once
	schema      *jsonschema.Schema
	compileErr  error
)

func compiled() (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		raw, err := files.ReadFile("testdata/manifest.schema.json")
		if err != nil {
			compileErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			compileErr = err
			return
		}
		c := jsonschema.NewCompiler()
		if err := c.AddResource("manifest.schema.json", doc); err != nil {
			compileErr = err
			return
		}
		schema, compileErr = c.Compile("manifest.schema.json")
	})
	return schema, compileErr
}

// Validate checks a manifest against the CLI's manifest schema (every object closed, required keys,
// enums); nil means the CLI's `init` would accept it.
func Validate(manifest []byte) error {
	sch, err := compiled()
	if err != nil {
		return fmt.Errorf("manifesttest: compile schema: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(manifest))
	if err != nil {
		return fmt.Errorf("manifest is not JSON: %w", err)
	}
	return sch.Validate(inst)
}

// Fixtures returns the manifests the predecessor wrote, by file name (e.g. "worker-simple-one-skill.json").
func Fixtures() map[string][]byte {
	out := map[string][]byte{}
	entries, _ := files.ReadDir("testdata/manifests")
	for _, e := range entries {
		b, err := files.ReadFile(path.Join("testdata/manifests", e.Name()))
		if err == nil {
			out[e.Name()] = b
		}
	}
	return out
}

// KeyOrders returns, for every object in doc, its keys in document order, grouped by the object's path
// ("" for the root, "tasks[]" for each task, "session", "context.custom"…).
func KeyOrders(doc []byte) (map[string][][]string, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	out := map[string][][]string{}
	if err := walk(dec, "", out); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the manifest")
	}
	return out, nil
}

func walk(dec *json.Decoder, at string, out map[string][][]string) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		var keys []string
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return err
			}
			k := kt.(string)
			keys = append(keys, k)
			child := k
			if at != "" {
				child = at + "." + k
			}
			if err := walk(dec, child, out); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // '}'
			return err
		}
		out[at] = append(out[at], keys)
	case json.Delim('['):
		for dec.More() {
			if err := walk(dec, at+"[]", out); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil { // ']'
			return err
		}
	}
	return nil
}

// canonicalOrders is, per object path, the longest key order any fixture shows. The server's manifests
// may omit optional keys, never reorder or add them.
func canonicalOrders() (map[string][]string, error) {
	canon := map[string][]string{}
	for name, b := range Fixtures() {
		orders, err := KeyOrders(b)
		if err != nil {
			return nil, fmt.Errorf("fixture %s: %w", name, err)
		}
		for p, lists := range orders {
			for _, keys := range lists {
				if len(keys) > len(canon[p]) {
					canon[p] = keys
				}
			}
		}
	}
	return canon, nil
}

// CheckKeyOrder reports an error when an object of manifest has a key the predecessor's manifests do
// not have at that place, or its keys in another order than theirs. Paths inside free-form members
// (tasks[].metadata) are not checked.
func CheckKeyOrder(manifest []byte) error {
	canon, err := canonicalOrders()
	if err != nil {
		return err
	}
	orders, err := KeyOrders(manifest)
	if err != nil {
		return err
	}
	paths := make([]string, 0, len(orders))
	for p := range orders {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if strings.HasPrefix(p, "tasks[].metadata") {
			continue
		}
		want, ok := canon[p]
		if !ok {
			return fmt.Errorf("object at %q does not exist in the predecessor's manifests", p)
		}
		for _, keys := range orders[p] {
			if !isSubsequence(keys, want) {
				return fmt.Errorf("keys at %q are %v; the predecessor's order is %v", p, keys, want)
			}
		}
	}
	return nil
}

// isSubsequence reports whether every key of got appears in want, in want's order.
func isSubsequence(got, want []string) bool {
	i := 0
	for _, k := range got {
		j := slices.Index(want[i:], k)
		if j < 0 {
			return false
		}
		i += j + 1
	}
	return true
}
