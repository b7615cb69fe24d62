package fakegateway

import (
	"encoding/json"
	"testing"
)

func TestExampleFromSchema(t *testing.T) {
	tests := []struct {
		name, schema, want string
	}{
		{"scalars", `{"type":"object","properties":{"s":{"type":"string"},"i":{"type":"integer"},"n":{"type":"number"},"b":{"type":"boolean"},"z":{"type":"null"}}}`,
			`{"b":true,"i":42,"n":4.2,"s":"example","z":null}`},
		{"enum and const", `{"type":"object","properties":{"e":{"type":"string","enum":["a","b"]},"c":{"const":7}}}`, `{"c":7,"e":"a"}`},
		{"nested", `{"type":"object","properties":{"o":{"type":"object","properties":{"list":{"type":"array","items":{"type":"integer"}}}}}}`, `{"o":{"list":[42]}}`},
		{"nullable type list", `{"type":"object","properties":{"x":{"type":["null","string"]}}}`, `{"x":"example"}`},
		{"anyOf prefers non-null", `{"type":"object","properties":{"x":{"anyOf":[{"type":"null"},{"type":"integer"}]}}}`, `{"x":42}`},
		{"allOf merges", `{"allOf":[{"type":"object","properties":{"a":{"type":"string"}}},{"properties":{"b":{"type":"boolean"}}}]}`, `{"a":"example","b":true}`},
		{"refs", `{"type":"object","properties":{"step":{"$ref":"#/$defs/Step"}},"$defs":{"Step":{"type":"object","properties":{"n":{"type":"integer"}}}}}`, `{"step":{"n":42}}`},
		{"self reference terminates", `{"$ref":"#"}`, `null`},
		{"implied object", `{"properties":{"a":{}}}`, `{"a":"example"}`},
		{"array without items", `{"type":"array"}`, `["example"]`},
		{"not a schema", `[1]`, `{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ExampleFromSchema(json.RawMessage(tt.schema))
			if string(got) != tt.want {
				t.Errorf("ExampleFromSchema(%s) = %s; want %s", tt.schema, got, tt.want)
			}
		})
	}
}
