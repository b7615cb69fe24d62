package tools

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

// canaryFaults are the fault models every tool is run with (fault-slow only
// waits, so it is left out).
var canaryFaults = []string{
	"", // the tool's default model
	fakegateway.ModelFault429, fakegateway.ModelFault429Empty, fakegateway.ModelFault500,
	fakegateway.ModelFault502HTML, fakegateway.ModelFault503CPU, fakegateway.ModelFault401Upstream,
	fakegateway.ModelFaultQuotaToken, fakegateway.ModelFaultQuotaUser, fakegateway.ModelFaultNotAllowed,
	fakegateway.ModelFaultUnpriced, fakegateway.ModelFaultError200, fakegateway.ModelFaultTrunc,
	fakegateway.ModelFaultCut, fakegateway.ModelFaultSSEError, fakegateway.ModelFaultBadJSON,
	fakegateway.ModelFaultBadJSONContent, "no-such-model-9",
}

// canaryArgs builds arguments that get past a tool's own validation where
// the schema allows: required properties and the main input filled by type
// and name, model set when the tool has one, waits off.
func canaryArgs(t *testing.T, tool Tool, model string, files map[string]string) map[string]any {
	t.Helper()
	var s struct {
		Properties map[string]struct {
			Type    string `json:"type"`
			Enum    []any  `json:"enum"`
			Minimum *int   `json:"minimum"`
			Items   *struct {
				Type string `json:"type"`
			} `json:"items"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if err := json.Unmarshal(tool.Def.RawInputSchema, &s); err != nil {
		t.Fatal(err)
	}
	main := []string{"prompt", "text", "input", "texts", "audio", "image", "images", "job_id", "button"}
	args := map[string]any{}
	for name, p := range s.Properties {
		switch {
		case name == "model":
			if model != "" {
				args[name] = model
			}
			continue
		case name == "wait_seconds":
			args[name] = 0
			continue
		case !slices.Contains(s.Required, name) && !slices.Contains(main, name):
			continue
		}
		switch {
		case len(p.Enum) > 0:
			args[name] = p.Enum[0]
		case name == "audio":
			args[name] = files["wav"]
		case name == "image":
			args[name] = files["png"]
		case name == "images" && p.Type == "array":
			args[name] = []string{files["png"], files["png"]}
		case p.Type == "array":
			args[name] = []string{"hello there", "hello world"}
		case p.Type == "integer" || p.Type == "number":
			v := 1
			if p.Minimum != nil {
				v = *p.Minimum
			}
			args[name] = v
		case p.Type == "boolean":
			args[name] = true
		default:
			args[name] = "hello"
		}
	}
	return args
}

// TestCanaryKeyNeverLeaks runs every tool in All with a canary key over its
// error paths: the gateway refusing the key, every fault model (gateway and
// relayed errors, cut and broken streams, bad bodies), and a dead gateway
// (transport errors name the URL). The key must appear in no result text, no
// structuredContent, no log line (debug level) and no file the server wrote.
func TestCanaryKeyNeverLeaks(t *testing.T) {
	b := make([]byte, 12)
	rand.Read(b)
	canary := "sk-CANARY-" + hex.EncodeToString(b)
	needles := []string{canary, strings.TrimPrefix(canary, "sk-")}

	files := map[string]string{"wav": filepath.Join(t.TempDir(), "talk.wav"), "png": writeSmallPNG(t)}
	if err := os.WriteFile(files["wav"], fakegateway.WAV(1, 8000), 0o644); err != nil {
		t.Fatal(err)
	}
	dead := httptest.NewServer(nil)
	dead.Close()

	setups := []struct {
		name   string
		opts   []envOption
		models []string
	}{
		// The gateway takes the canary: every fault path runs.
		{"faults", []envOption{withEnv("WENWEN_API_KEY", canary), withGateway(fakegateway.WithKey(canary))}, canaryFaults},
		// The gateway refuses the canary: 401 on every route.
		{"bad key", []envOption{withEnv("WENWEN_API_KEY", canary)}, []string{""}},
		// Nobody answers: transport errors.
		{"dead gateway", []envOption{withEnv("WENWEN_API_KEY", canary), withEnv("WENWEN_BASE_URL", dead.URL)}, []string{""}},
	}
	for _, setup := range setups {
		t.Run(setup.name, func(t *testing.T) {
			env := newTestEnv(t, setup.opts...)
			calls, errs := 0, 0
			for _, tool := range env.Tools {
				for _, model := range setup.models {
					args := canaryArgs(t, tool, model, files)
					res := env.call(t, tool.Def.Name, args)
					calls++
					if res.IsError {
						errs++
					}
					checkNoCanary(t, tool.Def.Name+" "+model, res, needles)
				}
			}
			if errs == 0 {
				t.Errorf("%d calls, none failed: the error paths were not reached", calls)
			}
			if setup.name != "dead gateway" {
				for _, route := range []string{fakegateway.RouteResponses, fakegateway.RouteMessages, fakegateway.RouteEmbeddings,
					fakegateway.RouteSpeech, fakegateway.RouteTranscriptions, fakegateway.RouteChatCompletions, fakegateway.RouteGemini} {
					if env.G.Count(route) == 0 {
						t.Errorf("no call reached %s: the canary did not travel there", route)
					}
				}
			}
			for _, n := range needles {
				if strings.Contains(env.Logs.String(), n) {
					t.Errorf("the key is in the logs:\n%s", grepLines(env.Logs.String(), n))
				}
			}
			if !strings.Contains(env.Logs.String(), `"tool call"`) && !strings.Contains(env.Logs.String(), "tool call") {
				t.Error("no debug log lines were captured: the log check saw nothing")
			}
			filepath.WalkDir(env.Deps.Config.OutputDir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return nil
				}
				data, _ := os.ReadFile(p)
				for _, n := range needles {
					if strings.Contains(string(data), n) {
						t.Errorf("the key is in the file %s", p)
					}
				}
				return nil
			})
		})
	}
}

func checkNoCanary(t *testing.T, what string, res *mcp.CallToolResult, needles []string) {
	t.Helper()
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range needles {
		if strings.Contains(string(raw), n) {
			t.Errorf("%s: the key is in the result: %s", what, raw)
		}
	}
}

func grepLines(s, needle string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, needle) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
