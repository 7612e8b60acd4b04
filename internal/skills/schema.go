package skills

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ManifestSchema is the JSON Schema (draft 2020-12) every manifest.json must satisfy. It is ours, not
// the predecessor's stricter bundled schema (which its own loader never enforced): only name is
// required, and unknown keys are allowed because real skills carry extra ones (e.g. priority).
//
//go:embed manifest.schema.json
var ManifestSchema []byte

// manifestSchema is ManifestSchema compiled once; a schema that does not compile is a build defect,
// caught by the first test that loads a skill.
var manifestSchema = func() *jsonschema.Schema {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ManifestSchema))
	if err != nil {
		panic(fmt.Sprintf("skills: embedded manifest schema is not JSON: %v", err))
	}
	c := jsonschema.NewCompiler()
	const url = "mem:///manifest.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		panic(fmt.Sprintf("skills: embedded manifest schema: %v", err))
	}
	return c.MustCompile(url)
}()

// printer renders schema errors in English.
var printer = message.NewPrinter(language.English)

// manifest is manifest.json decoded after it passed the schema, so every field has the right type.
type manifest struct {
	Name         string         `json:"name"`
	Version      string         `json:"version"`
	Description  string         `json:"description"`
	Type         string         `json:"type"`
	AssignTo     []string       `json:"assignTo"`
	Capabilities []string       `json:"capabilities"`
	Dependencies []string       `json:"dependencies"`
	Author       string         `json:"author"`
	License      string         `json:"license"`
	Config       map[string]any `json:"config"`
}

// parseManifest parses and validates manifest.json. It returns the manifest, or every problem found as
// one sentence each (sorted, so the list is stable between reloads).
func parseManifest(data []byte) (manifest, []string) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // tolerate a UTF-8 byte order mark
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // the validator wants numbers exact
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return manifest{}, []string{"manifest.json: invalid JSON: " + syntaxMessage(data, err)}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return manifest{}, []string{"manifest.json: invalid JSON: unexpected data after the top-level value"}
	}
	if err := manifestSchema.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return manifest{}, []string{"manifest.json: " + err.Error()}
		}
		var msgs []string
		collectLeaves(ve, &msgs)
		sort.Strings(msgs)
		return manifest{}, msgs
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil {
		// Unreachable when the schema and the struct agree; reported rather than trusted.
		return manifest{}, []string{"manifest.json: " + err.Error()}
	}
	return m, nil
}

// collectLeaves flattens a validation error tree into its leaf messages, each prefixed with the JSON
// pointer of the offending value ("manifest.json: /assignTo/1: value must be one of ...").
func collectLeaves(e *jsonschema.ValidationError, out *[]string) {
	if len(e.Causes) == 0 {
		loc := ""
		if len(e.InstanceLocation) > 0 {
			loc = "/" + strings.Join(e.InstanceLocation, "/") + ": "
		}
		*out = append(*out, "manifest.json: "+loc+e.ErrorKind.LocalizedString(printer))
		return
	}
	for _, c := range e.Causes {
		collectLeaves(c, out)
	}
}

// syntaxMessage describes a JSON decoding error with the line and column where it happened.
func syntaxMessage(data []byte, err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := lineCol(data, se.Offset)
		return fmt.Sprintf("%v (line %d, column %d)", se, line, col)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		line, col := lineCol(data, te.Offset)
		return fmt.Sprintf("%v (line %d, column %d)", te, line, col)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of file"
	}
	return err.Error()
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}
