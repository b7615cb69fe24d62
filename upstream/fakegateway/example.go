package fakegateway

import (
	"encoding/json"
	"strings"
)

// maxExampleDepth bounds recursion through nested or self-referencing schemas.
const maxExampleDepth = 12

// ExampleFromSchema returns a JSON document that fits the JSON schema schema,
// as a model with structured output would: every property of an object is
// filled by type (string "example", integer 42, number 4.2, boolean true,
// null), arrays get one item, enum and const give their first value, anyOf and
// oneOf their first branch, allOf the merged branches, and local $refs
// ("#/$defs/…", "#/definitions/…") are followed. An invalid schema gives "{}".
func ExampleFromSchema(schema json.RawMessage) []byte {
	var root map[string]any
	if err := json.Unmarshal(schema, &root); err != nil || root == nil {
		return []byte("{}")
	}
	b, err := json.Marshal(exampleValue(root, root, 0))
	if err != nil {
		return []byte("{}")
	}
	return b
}

func exampleValue(s, root map[string]any, depth int) any {
	if depth > maxExampleDepth {
		return nil
	}
	if ref, ok := s["$ref"].(string); ok {
		if target := resolveRef(ref, root); target != nil {
			return exampleValue(target, root, depth+1)
		}
		return nil
	}
	if v, ok := s["const"]; ok {
		return v
	}
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if alts, ok := s[k].([]any); ok && len(alts) > 0 {
			// Prefer a branch that is not just null.
			for _, a := range alts {
				if m, ok := a.(map[string]any); ok && m["type"] != "null" {
					return exampleValue(m, root, depth+1)
				}
			}
			if m, ok := alts[0].(map[string]any); ok {
				return exampleValue(m, root, depth+1)
			}
		}
	}
	if all, ok := s["allOf"].([]any); ok && len(all) > 0 {
		merged := map[string]any{}
		props := map[string]any{}
		for _, a := range all {
			m, ok := a.(map[string]any)
			if !ok {
				continue
			}
			if ref, ok := m["$ref"].(string); ok {
				if target := resolveRef(ref, root); target != nil {
					m = target
				}
			}
			for k, v := range m {
				merged[k] = v
			}
			if p, ok := m["properties"].(map[string]any); ok {
				for k, v := range p {
					props[k] = v
				}
			}
		}
		delete(merged, "allOf")
		if len(props) > 0 {
			merged["properties"] = props
		}
		return exampleValue(merged, root, depth+1)
	}

	switch schemaType(s) {
	case "object":
		obj := map[string]any{}
		if props, ok := s["properties"].(map[string]any); ok {
			for name, p := range props {
				if m, ok := p.(map[string]any); ok {
					obj[name] = exampleValue(m, root, depth+1)
				} else {
					obj[name] = "example"
				}
			}
		}
		return obj
	case "array":
		items, ok := s["items"].(map[string]any)
		if !ok {
			return []any{"example"}
		}
		return []any{exampleValue(items, root, depth+1)}
	case "integer":
		return 42
	case "number":
		return 4.2
	case "boolean":
		return true
	case "null":
		return nil
	default:
		return "example"
	}
}

// schemaType is the schema's type, the first non-null one of a type list,
// or the type implied by properties or items.
func schemaType(s map[string]any) string {
	switch t := s["type"].(type) {
	case string:
		return t
	case []any:
		for _, v := range t {
			if str, ok := v.(string); ok && str != "null" {
				return str
			}
		}
		if len(t) > 0 {
			return "null"
		}
	}
	if _, ok := s["properties"]; ok {
		return "object"
	}
	if _, ok := s["items"]; ok {
		return "array"
	}
	return "string"
}

// resolveRef follows a local JSON pointer such as "#/$defs/Step".
func resolveRef(ref string, root map[string]any) map[string]any {
	path, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil
	}
	if path == "" {
		return root
	}
	var cur any = root
	for _, part := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	m, _ := cur.(map[string]any)
	return m
}
