package api_test

import (
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-hr/vigil"
	"github.com/vigil-hr/vigil/api"
)

var dumpSchemas = flag.String("dump-schemas", "", "write the schemas generated from the Go types to this file (to update openapi.json)")

// TestOpenAPI checks openapi.json against the handlers: every route
// api.Routes registers is documented and every documented operation is a
// route; a route's documented request and success bodies name the
// schemas of its Go types; and each such schema's properties are the Go
// struct's JSON fields with matching types, found by reflection.
func TestOpenAPI(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	registered := map[string]bool{}
	gen := map[string]any{}
	for _, rt := range api.Routes() {
		op := strings.ToLower(rt.Method) + " " + rt.Path
		registered[op] = true
		for _, t := range []reflect.Type{rt.Request, rt.Response} {
			if t != nil {
				ref(t, gen)
			}
		}
		body, ok := doc.Paths[rt.Path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s %s is served but not in openapi.json", rt.Method, rt.Path)
			continue
		}
		var o struct {
			RequestBody struct {
				Content map[string]struct{ Schema map[string]any } `json:"content"`
			} `json:"requestBody"`
			Responses map[string]struct {
				Content map[string]struct{ Schema map[string]any } `json:"content"`
			} `json:"responses"`
		}
		if err := json.Unmarshal(body, &o); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		if rt.Response != nil {
			got := o.Responses[strconv.Itoa(rt.Status)].Content["application/json"].Schema["$ref"]
			if want := ref(rt.Response, gen); got != want["$ref"] {
				t.Errorf("%s: %d body is %v, the handler's is %v", op, rt.Status, got, want["$ref"])
			}
		}
		if rt.Request != nil {
			s := o.RequestBody.Content["application/json"].Schema
			allOf, _ := s["allOf"].([]any)
			props, _ := s["properties"].(map[string]any)
			if len(allOf) != 1 || allOf[0].(map[string]any)["$ref"] != ref(rt.Request, gen)["$ref"] || len(props) != 1 || props["key"] == nil {
				t.Errorf("%s: request body %v, want the fields of %s and key", op, s, rt.Request)
			}
		}
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			if !registered[method+" "+path] {
				t.Errorf("openapi.json documents %s %s, which no handler serves", strings.ToUpper(method), path)
			}
		}
	}
	ref(reflect.TypeFor[api.ErrorBody](), gen)
	if *dumpSchemas != "" {
		b, _ := json.MarshalIndent(gen, "", "  ")
		if err := os.WriteFile(*dumpSchemas, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names := make([]string, 0, len(gen))
	for name := range gen {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		want := gen[name].(map[string]any)["properties"]
		have, ok := doc.Components.Schemas[name].(map[string]any)
		if !ok {
			t.Errorf("schema %s is not in openapi.json", name)
			continue
		}
		if got := normalizeProps(have["properties"]); !reflect.DeepEqual(got, want) {
			g, _ := json.Marshal(got)
			w, _ := json.Marshal(want)
			t.Errorf("schema %s: properties\n%s\nthe Go type's are\n%s", name, g, w)
		}
	}
}

// normalize keeps only the structure of a property schema (type, $ref,
// items, additionalProperties), dropping descriptions, enums and patterns.
func normalize(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for k, x := range m {
		switch k {
		case "type", "$ref":
			out[k] = x
		case "items", "additionalProperties":
			out[k] = normalize(x)
		}
	}
	return out
}

// normalizeProps normalizes each property of a properties object.
func normalizeProps(v any) any {
	m, _ := v.(map[string]any)
	out := map[string]any{}
	for k, x := range m {
		out[k] = normalize(x)
	}
	return out
}

// schemaName names the schema of a Go type: its name, or for an instance
// of a generic type its argument's name then its own (Record[vigil.Act]
// is ActRecord).
func schemaName(t reflect.Type) string {
	n := t.Name()
	if i := strings.Index(n, "["); i >= 0 {
		arg := n[i+1 : len(n)-1]
		arg = arg[strings.LastIndex(arg, ".")+1:]
		return arg + n[:i]
	}
	return n
}

// ref returns the schema of a value of type t, adding the schemas of the
// named structs it uses to defs.
func ref(t reflect.Type, defs map[string]any) map[string]any {
	switch t {
	case reflect.TypeFor[vigil.ID]():
		return map[string]any{"$ref": "#/components/schemas/ID"}
	case reflect.TypeFor[vigil.Date]():
		return map[string]any{"$ref": "#/components/schemas/Date"}
	case reflect.TypeFor[time.Time]():
		return map[string]any{"$ref": "#/components/schemas/Time"}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return ref(t.Elem(), defs)
	case reflect.Struct:
		name := schemaName(t)
		if defs[name] == nil {
			defs[name] = map[string]any{} // against recursion
			props := map[string]any{}
			for f := range t.Fields() {
				if !f.IsExported() {
					continue
				}
				jn, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if jn == "-" {
					continue
				}
				if jn == "" {
					jn = f.Name
				}
				props[jn] = ref(f.Type, defs)
			}
			defs[name] = map[string]any{"type": "object", "properties": props}
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	case reflect.Slice, reflect.Array:
		return map[string]any{"type": "array", "items": ref(t.Elem(), defs)}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": ref(t.Elem(), defs)}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	}
	panic("no schema for " + t.String())
}
