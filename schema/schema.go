// Package schema holds the one JSON Schema configuration used for every tool
// input and output schema of wenwen-mcp.
//
// MCP clients are picky about schemas: the TypeScript SDK (Claude Desktop,
// Claude Code, Cursor, Inspector) rejects a whole tools/list when a schema
// lacks a root "type":"object", the Anthropic API refuses top-level
// anyOf/oneOf/allOf, and some clients refuse $schema, $ref and $defs. For
// produces schemas that avoid all of these; Check verifies a schema does.
package schema

import (
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"
)

// For returns the JSON schema of the struct type T, inline and portable
// (see the package comment). It panics when T cannot give such a schema,
// which is a programming error caught by the first test that registers the
// tool.
func For[T any]() json.RawMessage {
	raw, err := Of(reflect.TypeFor[T]())
	if err != nil {
		panic(err)
	}
	return raw
}

// ForOutput returns the output schema of T: like For, but nested objects
// are declared only as "object" or "array", and descriptions are dropped.
// Clients use an output schema to check structuredContent, rarely to show
// it to the model, while every byte of tools/list is paid in every
// conversation; the top-level fields keep their types and required list.
func ForOutput[T any]() json.RawMessage {
	raw := For[T]()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	delete(m, "description")
	if props, ok := m["properties"].(map[string]any); ok {
		for name, p := range props {
			props[name] = shallow(p)
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return out
}

// shallow keeps a property's type (and enum, and the item type of an array
// of scalars) and drops its inner structure.
func shallow(v any) any {
	p, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for _, k := range []string{"type", "enum"} {
		if x, ok := p[k]; ok {
			out[k] = x
		}
	}
	if items, ok := p["items"].(map[string]any); ok {
		if t, ok := items["type"].(string); ok && t != "object" && t != "array" {
			out["items"] = map[string]any{"type": t}
		}
	}
	return out
}

// Of is For for a reflect.Type.
func Of(t reflect.Type) (json.RawMessage, error) {
	r := &jsonschema.Reflector{
		ExpandedStruct:            true,
		DoNotReference:            true,
		Anonymous:                 true,
		AllowAdditionalProperties: true,
	}
	s := r.ReflectFromType(t)
	s.Version = ""
	s.ID = ""
	raw, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("schema for %s: %w", t, err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("schema for %s: %w", t, err)
	}
	if _, ok := m["properties"]; !ok {
		m["properties"] = map[string]any{}
	}
	openBooleanSchemas(m)
	out, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("schema for %s: %w", t, err)
	}
	if err := Check(out); err != nil {
		return nil, fmt.Errorf("schema for %s: %w", t, err)
	}
	return out, nil
}

// Check reports why raw is not a portable MCP tool schema, or nil when it is:
// root "type":"object" with "properties", no $schema, $ref or $defs anywhere,
// and no anyOf, oneOf or allOf at the root.
func Check(raw json.RawMessage) error {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	if m["type"] != "object" {
		return fmt.Errorf("root type is %v, want object", m["type"])
	}
	if _, ok := m["properties"].(map[string]any); !ok {
		return fmt.Errorf("root has no properties object")
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf", "not"} {
		if _, ok := m[k]; ok {
			return fmt.Errorf("root uses %s", k)
		}
	}
	return walk(m, "#")
}

// openBooleanSchemas rewrites the boolean schema true (what invopop gives an
// interface field) as {}: same meaning, and accepted by clients that expect
// every property schema to be an object.
func openBooleanSchemas(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			if b, ok := child.(bool); ok && b && (k == "items" || k == "additionalProperties") {
				v[k] = map[string]any{}
				continue
			}
			if k == "properties" {
				if props, ok := child.(map[string]any); ok {
					for name, p := range props {
						if b, ok := p.(bool); ok && b {
							props[name] = map[string]any{}
						}
					}
				}
			}
			openBooleanSchemas(child)
		}
	case []any:
		for _, child := range v {
			openBooleanSchemas(child)
		}
	}
}

func walk(v any, path string) error {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range []string{"$schema", "$ref", "$defs", "definitions", "$id"} {
			if _, ok := v[k]; ok {
				return fmt.Errorf("%s uses %s", path, k)
			}
		}
		for k, child := range v {
			if err := walk(child, path+"/"+k); err != nil {
				return err
			}
		}
	case []any:
		for i, child := range v {
			if err := walk(child, fmt.Sprintf("%s/%d", path, i)); err != nil {
				return err
			}
		}
	}
	return nil
}
