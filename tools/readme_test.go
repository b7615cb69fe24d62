package tools

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const readmePath = "../README.md"

// TestReadmeIsCurrent regenerates the README's generated sections (tool
// list, toolsets, configuration table, tools/list sizes) from the code and
// fails when the README differs; run with -update to rewrite them.
func TestReadmeIsCurrent(t *testing.T) {
	env := newTestEnv(t)
	all := All(env.Deps)
	sections := map[string]string{
		"tools":    toolsSection(all),
		"toolsets": toolsetsSection(all),
		"config":   configSection(),
		"sizes":    sizesSection(t, all),
	}
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	got := string(raw)
	want := got
	for name, body := range sections {
		re := regexp.MustCompile(`(?s)(<!-- BEGIN GENERATED: ` + name + ` -->\n).*?(<!-- END GENERATED: ` + name + ` -->)`)
		if !re.MatchString(want) {
			t.Fatalf("README has no generated section %q", name)
		}
		want = re.ReplaceAllLiteralString(want, "<!-- BEGIN GENERATED: "+name+" -->\n"+body+"<!-- END GENERATED: "+name+" -->")
	}
	if *update {
		if err := os.WriteFile(readmePath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Errorf("README.md is out of date with the code; run: go test ./tools -run TestReadmeIsCurrent -update")
	}
}

func toolsSection(all []Tool) string {
	var b strings.Builder
	b.WriteString("| Tool | Toolset | What it does | Arguments (**required**) |\n|---|---|---|---|\n")
	for _, t := range all {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", t.Def.Name, t.Toolset, strings.ReplaceAll(t.Def.Description, "|", `\|`), argumentList(t.Def.RawInputSchema))
	}
	return b.String()
}

// argumentList names a tool's arguments in schema order, required ones in bold.
func argumentList(raw json.RawMessage) string {
	var s struct {
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	slices.Sort(names)
	for i, n := range names {
		if slices.Contains(s.Required, n) {
			names[i] = "**" + n + "**"
		} else {
			names[i] = n
		}
	}
	return strings.Join(names, ", ")
}

func toolsetsSection(all []Tool) string {
	var b strings.Builder
	b.WriteString("| Toolset | Default | Tools |\n|---|---|---|\n")
	defaults := DefaultToolsets()
	for _, s := range Toolsets() {
		var names []string
		for _, t := range all {
			if t.Toolset == s.Name {
				names = append(names, "`"+t.Def.Name+"`")
			}
		}
		def := ""
		if slices.Contains(defaults, s.Name) {
			def = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.Name, def, strings.Join(names, ", "))
	}
	return b.String()
}

func configSection() string {
	var b strings.Builder
	b.WriteString("| Variable | Default | What it does |\n|---|---|---|\n")
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		f := ct.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		if name == "" {
			continue
		}
		def := f.Tag.Get("envDefault")
		if def != "" {
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `WENWEN_%s` | %s | %s |\n", name, def, f.Tag.Get("desc"))
	}
	return b.String()
}

func sizesSection(t *testing.T, all []Tool) string {
	def, err := Select(all, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	nDef, err := ToolsListBytes(def)
	if err != nil {
		t.Fatal(err)
	}
	nAll, err := ToolsListBytes(all)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("| Selection | Tools | `tools/list` size |\n|---|---|---|\n| default | %d | %d bytes |\n| all | %d | %d bytes |\n", len(def), nDef, len(all), nAll)
}

func TestConfigFieldsDocumented(t *testing.T) {
	ct := reflect.TypeFor[Config]()
	for i := range ct.NumField() {
		f := ct.Field(i)
		if f.Tag.Get("env") == "" || f.Tag.Get("desc") == "" {
			t.Errorf("Config.%s lacks an env or desc tag: every variable needs a README row", f.Name)
		}
	}
}
