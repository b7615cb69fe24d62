package tools

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/wenwen-ai/wenwen-mcp/schema"
)

var update = flag.Bool("update", false, "rewrite testdata/toolsnaps (and other golden files) from the code")

const snapDir = "../testdata/toolsnaps"

var reToolName = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)+$|^[a-z]+$`)

// TestToolInventory checks invariants every tool keeps, so that a new tool
// cannot break tools/list for picky clients.
func TestToolInventory(t *testing.T) {
	env := newTestEnv(t)
	seen := map[string]bool{}
	for _, tool := range env.Tools {
		d := tool.Def
		t.Run(d.Name, func(t *testing.T) {
			if !reToolName.MatchString(d.Name) {
				t.Errorf("name %q is not snake_case", d.Name)
			}
			if seen[d.Name] {
				t.Errorf("duplicate tool name %q", d.Name)
			}
			seen[d.Name] = true
			if n := len(d.Description); n < 40 || n > 600 {
				t.Errorf("description is %d bytes; want 40..600 (say what it does, when, what it costs)", n)
			}
			if tool.Toolset == "" {
				t.Error("no toolset")
			}
			a := d.Annotations
			if a.Title == "" || a.ReadOnlyHint == nil || a.DestructiveHint == nil || a.IdempotentHint == nil || a.OpenWorldHint == nil {
				t.Errorf("annotations %+v; want a title and all four hints set", a)
			}
			if d.InputSchema.Type != "" || d.OutputSchema.Type != "" {
				t.Error("both typed and raw schemas set: tools/list would fail")
			}
			if err := schema.Check(d.RawInputSchema); err != nil {
				t.Errorf("input schema: %v", err)
			}
			if d.RawOutputSchema == nil {
				t.Error("no output schema")
			} else if err := schema.Check(d.RawOutputSchema); err != nil {
				t.Errorf("output schema: %v", err)
			}
			if _, err := json.Marshal(d); err != nil {
				t.Errorf("tool does not marshal: %v", err)
			}
		})
	}
	// The whole list as a client gets it.
	list, err := env.Client.ListTools(t.Context(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatalf("tools/list: %v", err)
	}
	if len(list.Tools) != len(env.Tools) {
		t.Errorf("tools/list has %d tools; want %d", len(list.Tools), len(env.Tools))
	}
}

// TestToolSnapshots compares each tool's published definition with its
// golden file under testdata/toolsnaps; run with -update to accept changes.
func TestToolSnapshots(t *testing.T) {
	env := newTestEnv(t)
	if *update {
		if err := os.MkdirAll(snapDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]bool{}
	for _, tool := range env.Tools {
		name := tool.Def.Name
		want[name+".json"] = true
		raw, err := json.Marshal(tool.Def)
		if err != nil {
			t.Fatal(err)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, raw, "", "  "); err != nil {
			t.Fatal(err)
		}
		pretty.WriteByte('\n')
		path := filepath.Join(snapDir, name+".json")
		if *update {
			if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: no snapshot (run go test ./tools -run TestToolSnapshots -update): %v", name, err)
			continue
		}
		if !bytes.Equal(got, pretty.Bytes()) {
			t.Errorf("%s: definition differs from %s; if the change is intended, run go test ./tools -run TestToolSnapshots -update\n--- got\n%s", name, path, pretty.Bytes())
		}
	}
	entries, _ := os.ReadDir(snapDir)
	for _, e := range entries {
		if !want[e.Name()] {
			if *update {
				os.Remove(filepath.Join(snapDir, e.Name()))
				continue
			}
			t.Errorf("stale snapshot %s: no tool has that name", e.Name())
		}
	}
}
