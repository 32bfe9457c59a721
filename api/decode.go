package api

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-hr/vigil"
)

// maxProblems caps the problems one answer lists.
const maxProblems = 100

// readDoc reads a case document of type T from r's body: the document's
// fields plus an optional "key" (the record's external key, which is not
// part of the document). The body must be at most max bytes (else
// vigil.ErrTooLarge), valid UTF-8, one JSON object, with exactly the
// field names of T (no unknown fields, no case-insensitive matches, no
// field twice) and values of the right JSON types. Every problem is a
// *vigil.FieldError naming its JSON path, joined; the document's own rules
// (ranges, sizes, references) are the service's to check.
func readDoc[T any](w http.ResponseWriter, r *http.Request, max int64) (doc T, key string, err error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return doc, "", fmt.Errorf("%w: body over %d bytes", vigil.ErrTooLarge, max)
	}
	if err != nil {
		return doc, "", fmt.Errorf("%w: read body: %v", vigil.ErrInvalid, err)
	}
	if err := checkJSON(body); err != nil {
		return doc, "", err
	}
	var probs []error
	top := reflect.TypeFor[T]()
	if body = bytes.TrimSpace(body); len(body) == 0 || body[0] != '{' {
		return doc, "", problem("", "must be a JSON object")
	}
	extra := map[string]reflect.Type{"key": reflect.TypeFor[string]()}
	shapeObject(body, top, "", extra, &probs)
	if len(probs) > 0 {
		return doc, "", errors.Join(probs...)
	}
	if !utf8.Valid(body) {
		// Outside the strings shape checked: in a member name.
		return doc, "", problem("", "not valid UTF-8")
	}
	var k struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal(body, &k); err != nil {
		return doc, "", problem("key", "must be a string")
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		// shape checked every value; this is a bug, not the client's.
		return doc, "", fmt.Errorf("decode %s after checking it: %w", top, err)
	}
	return doc, k.Key, nil
}

// checkJSON checks that body is exactly one JSON value. (encoding/json
// would turn invalid UTF-8 in a string into U+FFFD: shape refuses it,
// naming the field.)
func checkJSON(body []byte) error {
	if !json.Valid(body) {
		var v any
		var syn *json.SyntaxError
		if err := json.Unmarshal(body, &v); errors.As(err, &syn) {
			return problem("", fmt.Sprintf("not valid JSON (at byte %d)", syn.Offset))
		}
		return problem("", "not one valid JSON value")
	}
	return nil
}

func problem(field, p string) error {
	return &vigil.FieldError{Field: field, Problem: p, Err: vigil.ErrInvalid}
}

func addProblem(probs *[]error, field, p string) {
	if len(*probs) < maxProblems {
		*probs = append(*probs, problem(field, p))
	}
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
)

// shape checks that the JSON value raw (already known to be valid JSON)
// fits type t, adding a problem per misfit under path. null fits
// anything (it leaves the zero value).
func shape(raw []byte, t reflect.Type, path string, probs *[]error) {
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		return
	}
	pt := reflect.PointerTo(t)
	if t.Kind() != reflect.Pointer && (pt.Implements(textUnmarshaler) || pt.Implements(jsonUnmarshaler)) {
		shapeLeaf(raw, t, path, probs)
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		shape(raw, t.Elem(), path, probs)
	case reflect.Struct:
		if raw[0] != '{' {
			addProblem(probs, path, "must be an object")
			return
		}
		shapeObject(raw, t, path, nil, probs)
	case reflect.Map:
		if raw[0] != '{' {
			addProblem(probs, path, "must be an object")
			return
		}
		shapeObject(raw, t, path, nil, probs)
	case reflect.Slice, reflect.Array:
		if raw[0] != '[' {
			addProblem(probs, path, "must be an array")
			return
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.Token() // [
		for i := 0; dec.More(); i++ {
			var v json.RawMessage
			if dec.Decode(&v) != nil {
				return // cannot happen: raw is valid
			}
			shape(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i), probs)
		}
	default:
		shapeLeaf(raw, t, path, probs)
	}
}

// shapeObject checks the members of the JSON object raw against struct or
// map type t. extra names members allowed besides t's fields (at the top
// of a request).
func shapeObject(raw []byte, t reflect.Type, path string, extra map[string]reflect.Type, probs *[]error) {
	var fields map[string]reflect.Type
	if t.Kind() == reflect.Struct {
		fields = jsonFields(t)
	}
	seen := map[string]bool{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.Token() // {
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return // cannot happen: raw is valid
		}
		name, _ := tok.(string)
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return
		}
		field := joinPath(path, shortName(name))
		if seen[name] {
			addProblem(probs, field, "given twice")
			continue
		}
		seen[name] = true
		var ft reflect.Type
		switch {
		case t.Kind() == reflect.Map:
			ft = t.Elem()
		case fields[name] != nil:
			ft = fields[name]
		case extra[name] != nil:
			ft = extra[name]
		default:
			addProblem(probs, field, "unknown field")
			continue
		}
		shape(v, ft, field, probs)
	}
}

// jsonFields maps the JSON names of t's exported fields to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for f := range t.Fields() {
		name, ok := jsonName(f)
		if ok {
			out[name] = f.Type
		}
	}
	return out
}

// jsonName returns the JSON member name of f, or false if encoding/json
// skips it.
func jsonName(f reflect.StructField) (string, bool) {
	if !f.IsExported() {
		return "", false
	}
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "", false
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, true
}

// shapeLeaf checks a scalar (or a value with its own unmarshaler).
func shapeLeaf(raw []byte, t reflect.Type, path string, probs *[]error) {
	if raw[0] == '"' && !utf8.Valid(raw) {
		addProblem(probs, path, "not valid UTF-8")
		return
	}
	if json.Unmarshal(raw, reflect.New(t).Interface()) != nil {
		addProblem(probs, path, "must be "+describe(t))
	}
}

// describe says in words what JSON a value of type t must be.
func describe(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[vigil.ID]():
		return "an ID (26 base32 characters)"
	case reflect.TypeFor[vigil.Date]():
		return "a date: YYYY, YYYY-MM or YYYY-MM-DD"
	case reflect.TypeFor[time.Time]():
		return "an RFC 3339 time"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer in range"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "of the right type"
}

// shortName returns a member name fit to echo as a field path: at most 64
// bytes, cut at a rune boundary.
func shortName(s string) string {
	if len(s) <= 64 {
		return s
	}
	n := 64
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// joinPath returns the JSON path of member name under path.
func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// A FieldProblem is one problem of a request, by JSON path (or query
// parameter or header name); "" is the body as a whole.
type FieldProblem struct {
	Field   string `json:"field"`
	Problem string `json:"problem"`
}

// ErrorBody is the body of every error answer.
type ErrorBody struct {
	Error string `json:"error"`
	// Fields lists the problems of an invalid request (400, 413) or of a
	// conflicting key (409).
	Fields []FieldProblem `json:"fields,omitempty"`
	// Version is the current version of the record when an update named
	// a stale one (409).
	Version int64 `json:"version,omitzero"`
}

// fieldsOf returns the field problems in err's tree, at most maxProblems.
// They are the only part of an internal error a client sees: a
// FieldError's problem never quotes a value.
func fieldsOf(err error) []FieldProblem {
	var out []FieldProblem
	for _, fe := range vigil.FieldErrors(err) {
		if len(out) == maxProblems {
			break
		}
		out = append(out, FieldProblem{Field: fe.Field, Problem: fe.Problem})
	}
	return out
}
