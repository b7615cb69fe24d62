package schema

import (
	"encoding/json"
	"strings"
	"testing"
)

type inner struct {
	Name string `json:"name" jsonschema_description:"a name, with a comma"`
}

type sample struct {
	Prompt  string         `json:"prompt" jsonschema_description:"what to say"`
	Count   int            `json:"count,omitempty" jsonschema:"minimum=1,maximum=4"`
	Items   []inner        `json:"items,omitempty"`
	Nested  *inner         `json:"nested,omitempty"`
	Free    map[string]any `json:"free,omitempty"`
	Anytime any            `json:"anytime,omitempty"`
}

type empty struct{}

func TestForIsPortable(t *testing.T) {
	raw := For[sample]()
	if err := Check(raw); err != nil {
		t.Fatalf("Check(For[sample]) = %v; want nil", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	props := m["properties"].(map[string]any)
	if got := props["prompt"].(map[string]any)["description"]; got != "what to say" {
		t.Errorf("prompt description = %v; want %q", got, "what to say")
	}
	items := props["items"].(map[string]any)["items"].(map[string]any)
	if got := items["properties"].(map[string]any)["name"].(map[string]any)["description"]; got != "a name, with a comma" {
		t.Errorf("nested description = %v; want the full text with its comma", got)
	}
	req, _ := m["required"].([]any)
	if len(req) != 1 || req[0] != "prompt" {
		t.Errorf("required = %v; want [prompt]", req)
	}
	if strings.Contains(string(raw), "$schema") {
		t.Errorf("schema declares $schema: %s", raw)
	}
}

func TestForEmptyStructHasProperties(t *testing.T) {
	raw := For[empty]()
	if err := Check(raw); err != nil {
		t.Fatalf("Check = %v; want nil (%s)", err, raw)
	}
}

func TestCheckRejects(t *testing.T) {
	tests := []struct {
		name, schema, want string
	}{
		{"not object", `{"type":"string","properties":{}}`, "root type"},
		{"no properties", `{"type":"object"}`, "no properties"},
		{"top anyOf", `{"type":"object","properties":{},"anyOf":[{}]}`, "anyOf"},
		{"ref", `{"type":"object","properties":{"a":{"$ref":"#/$defs/x"}}}`, "$ref"},
		{"defs", `{"type":"object","properties":{},"$defs":{}}`, "$defs"},
		{"schema decl", `{"$schema":"x","type":"object","properties":{}}`, "$schema"},
		{"not json", `[`, "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(json.RawMessage(tt.schema))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check(%s) = %v; want error containing %q", tt.schema, err, tt.want)
			}
		})
	}
}

func TestForAnyFieldIsEmptyObjectSchema(t *testing.T) {
	var m map[string]any
	if err := json.Unmarshal(For[sample](), &m); err != nil {
		t.Fatal(err)
	}
	got, ok := m["properties"].(map[string]any)["anytime"].(map[string]any)
	if !ok || len(got) != 0 {
		t.Errorf("anytime schema = %#v; want {}", m["properties"].(map[string]any)["anytime"])
	}
}

type outSample struct {
	Name  string   `json:"name" jsonschema_description:"dropped in output schemas"`
	Tags  []string `json:"tags,omitempty"`
	Items []inner  `json:"items"`
	Sub   *inner   `json:"sub,omitempty"`
	State string   `json:"state" jsonschema:"enum=a,enum=b"`
}

func TestForOutputIsShallow(t *testing.T) {
	raw := ForOutput[outSample]()
	if err := Check(raw); err != nil {
		t.Fatal(err)
	}
	want := `{"properties":{"items":{"type":"array"},"name":{"type":"string"},"state":{"enum":["a","b"],"type":"string"},"sub":{"type":"object"},"tags":{"items":{"type":"string"},"type":"array"}},"required":["name","items","state"],"type":"object"}`
	if string(raw) != want {
		t.Errorf("ForOutput = %s; want %s", raw, want)
	}
}
