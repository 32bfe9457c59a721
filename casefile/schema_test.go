package casefile_test

import (
	"encoding"
	"encoding/json"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-hr/vigil/casefile"
)

// TestSchemaMatchesStructs walks docs/case-format.schema.json alongside the
// Go types of a File and checks that every object's properties are
// exactly the JSON names of the struct's fields, that objects forbid
// other properties, and that arrays, maps, strings and numbers line up,
// so that the schema and the code cannot drift apart.
func TestSchemaMatchesStructs(t *testing.T) {
	b, err := os.ReadFile("../docs/case-format.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema map[string]any
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if schema["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v; want draft 2020-12", schema["$schema"])
	}
	defs, _ := schema["$defs"].(map[string]any)
	used := map[string]bool{}
	resolve := func(node map[string]any, path string) map[string]any {
		for {
			ref, ok := node["$ref"].(string)
			if !ok {
				return node
			}
			name, ok := strings.CutPrefix(ref, "#/$defs/")
			next, found := defs[name].(map[string]any)
			if !ok || !found {
				t.Fatalf("%s: $ref %q does not resolve", path, ref)
			}
			used[name] = true
			node = next
		}
	}
	textType := reflect.TypeFor[encoding.TextUnmarshaler]()
	var walk func(typ reflect.Type, node map[string]any, path string)
	walk = func(typ reflect.Type, node map[string]any, path string) {
		node = resolve(node, path)
		if typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		want := ""
		switch {
		case reflect.PointerTo(typ).Implements(textType):
			want = "string"
		case typ.Kind() == reflect.String:
			want = "string"
		case typ.Kind() == reflect.Int:
			want = "integer"
		case typ.Kind() == reflect.Float64:
			want = "number"
		case typ.Kind() == reflect.Slice:
			want = "array"
		case typ.Kind() == reflect.Map, typ.Kind() == reflect.Struct:
			want = "object"
		}
		got, _ := node["type"].(string)
		if got == "" {
			// An enum or const of strings stands for a string.
			if _, ok := node["enum"]; ok {
				got = "string"
			} else if _, ok := node["const"].(string); ok {
				got = "string"
			}
		}
		if got != want {
			t.Errorf("%s: schema type %q, Go type %s wants %q", path, got, typ, want)
			return
		}
		switch {
		case want == "array":
			items, ok := node["items"].(map[string]any)
			if !ok {
				t.Errorf("%s: array without items", path)
				return
			}
			walk(typ.Elem(), items, path+"[]")
		case typ.Kind() == reflect.Map:
			add, ok := node["additionalProperties"].(map[string]any)
			if !ok {
				t.Errorf("%s: map without additionalProperties schema", path)
				return
			}
			walk(typ.Elem(), add, path+".*")
		case typ.Kind() == reflect.Struct && want == "object":
			if node["additionalProperties"] != false {
				t.Errorf("%s: object allows additional properties", path)
			}
			props, _ := node["properties"].(map[string]any)
			var goNames, schemaNames []string
			for i := range typ.NumField() {
				f := typ.Field(i)
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				if !f.IsExported() || name == "-" {
					continue
				}
				goNames = append(goNames, name)
				if p, ok := props[name].(map[string]any); ok {
					walk(f.Type, p, path+"."+name)
				}
			}
			for name := range props {
				schemaNames = append(schemaNames, name)
			}
			slices.Sort(goNames)
			slices.Sort(schemaNames)
			if !slices.Equal(goNames, schemaNames) {
				t.Errorf("%s: schema properties %v, Go %s fields %v", path, schemaNames, typ, goNames)
			}
			for _, r := range requiredOf(node) {
				if !slices.Contains(goNames, r) {
					t.Errorf("%s: requires %q, which %s lacks", path, r, typ)
				}
			}
		}
	}
	walk(reflect.TypeFor[casefile.File](), schema, "$")
	for name := range defs {
		if !used[name] {
			t.Errorf("$defs/%s is never used", name)
		}
	}
}

func requiredOf(node map[string]any) []string {
	list, _ := node["required"].([]any)
	var out []string
	for _, r := range list {
		s, _ := r.(string)
		out = append(out, s)
	}
	return out
}

// TestPure checks that the package reads and writes only what it is
// given: no files, network, database, clock or randomness, and no store.
func TestPure(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, imp := range strings.Fields(string(out)) {
		switch {
		case imp == "os", imp == "io/fs", imp == "net", strings.HasPrefix(imp, "net/"), imp == "database/sql",
			imp == "time", imp == "math/rand", imp == "math/rand/v2", imp == "crypto/rand", imp == "syscall", imp == "os/exec":
			t.Errorf("casefile imports %s", imp)
		case strings.HasPrefix(imp, "github.com/vigil-hr/vigil/") && imp != "github.com/vigil-hr/vigil/vocab":
			t.Errorf("casefile imports %s; it may use only the root nouns and vocab", imp)
		}
	}
}
