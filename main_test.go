package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

// binPath is the server built once for the tests that spawn it.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wenwen-mcp-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "wenwen-mcp")
	if runtime.GOOS == "windows" {
		binPath += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// baseEnv is a minimal environment: no WENWEN_* variable leaks in from the
// machine running the tests.
func baseEnv(t testing.TB, extra ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, extra...)
}

// rawSession drives the binary with hand-written JSON-RPC lines.
type rawSession struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *bufio.Reader
	stderr *bytes.Buffer
	seen   map[int]map[string]any // answers read while looking for another id
}

func startRaw(t testing.TB, env []string, args ...string) *rawSession {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = env
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return &rawSession{cmd: cmd, stdin: stdin, stdout: bufio.NewReader(stdout), stderr: &stderr, seen: map[int]map[string]any{}}
}

func (s *rawSession) send(t testing.TB, line string) {
	t.Helper()
	if _, err := io.WriteString(s.stdin, line+"\n"); err != nil {
		t.Fatal(err)
	}
}

// readID returns the answer with the given id, reading stdout as needed
// (answers come in any order).
func (s *rawSession) readID(t testing.TB, id int) map[string]any {
	t.Helper()
	if msg, ok := s.seen[id]; ok {
		return msg
	}
	for {
		line, err := s.stdout.ReadBytes('\n')
		if err != nil {
			t.Fatalf("reading answer %d: %v (stderr: %s)", id, err, s.stderr)
		}
		var msg map[string]any
		if err := json.Unmarshal(line, &msg); err != nil {
			t.Fatalf("stdout line is not JSON: %q", line)
		}
		if got, ok := msg["id"].(float64); ok {
			if int(got) == id {
				return msg
			}
			s.seen[int(got)] = msg
		}
	}
}

const initLine = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`
const initializedLine = `{"jsonrpc":"2.0","method":"notifications/initialized"}`

func TestNoEnvironment(t *testing.T) {
	s := startRaw(t, baseEnv(t))
	s.send(t, initLine)
	if init := s.readID(t, 1); init["result"] == nil {
		t.Fatalf("initialize = %v", init)
	}
	s.send(t, initializedLine)
	s.send(t, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`)
	list := s.readID(t, 2)
	tools, _ := list["result"].(map[string]any)["tools"].([]any)
	if len(tools) < 2 {
		t.Fatalf("tools/list = %v; want the tools", list)
	}
	s.send(t, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"chat","arguments":{"prompt":"hi"}}}`)
	res := s.readID(t, 3)["result"].(map[string]any)
	text := res["content"].([]any)[0].(map[string]any)["text"].(string)
	if res["isError"] != true || !strings.Contains(text, "WENWEN_API_KEY is not set") {
		t.Errorf("chat without a key = %v; want isError naming WENWEN_API_KEY", res)
	}
}

// TestStdoutCarriesOnlyProtocol feeds garbage between real requests and
// checks that every stdout line is a JSON-RPC 2.0 message and the server
// keeps answering.
func TestStdoutCarriesOnlyProtocol(t *testing.T) {
	g := fakegateway.New(t)
	s := startRaw(t, baseEnv(t, "WENWEN_API_KEY="+fakegateway.Key, "WENWEN_BASE_URL="+g.URL, "WENWEN_LOG_LEVEL=debug"))
	lines := []string{
		"hello?", initLine, "{not json", initializedLine, "", "\x00\x01\x02", `{"jsonrpc":"2.0","id":"x","method":"no/such"}`,
		`[1,2,3]`, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"chat","arguments":{"prompt":"hi"}}}`,
		`{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"nope","arguments":{}}}`,
		strings.Repeat("garbage ", 1000), `{"jsonrpc":"2.0","id":4,"method":"tools/list"}`,
	}
	for _, l := range lines {
		s.send(t, l)
	}
	s.stdin.Close()
	out, err := io.ReadAll(s.stdout)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Wait()
	ids := map[string]bool{}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var msg map[string]any
		if err := json.Unmarshal(line, &msg); err != nil || msg["jsonrpc"] != "2.0" {
			t.Errorf("stdout line is not JSON-RPC 2.0: %q", line)
			continue
		}
		ids[fmt.Sprint(msg["id"])] = true
	}
	for _, id := range []string{"1", "2", "3", "4"} {
		if !ids[id] {
			t.Errorf("no answer for id %s among %s", id, out)
		}
	}
	if !strings.Contains(string(out), `You said: \"hi\"`) {
		t.Errorf("chat answer missing from stdout: %s\nstderr: %s", out, s.stderr)
	}
}

func TestVersionHelpAndBadConfig(t *testing.T) {
	out, err := exec.Command(binPath, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "wenwen-mcp ") {
		t.Errorf("--version = %q, %v", out, err)
	}
	out, err = exec.Command(binPath, "--help").Output()
	if err != nil || !strings.Contains(string(out), "WENWEN_API_KEY") {
		t.Errorf("--help = %q, %v", out, err)
	}
	for _, bad := range []string{"WENWEN_TIMEOUT=soon", "WENWEN_BASE_URL=ftp://x", "WENWEN_LOG_LEVEL=loud", "WENWEN_SAVE_MEDIA=maybe"} {
		cmd := exec.Command(binPath)
		cmd.Env = baseEnv(t, bad)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		name, _, _ := strings.Cut(bad, "=")
		msg := strings.TrimSpace(stderr.String())
		if err == nil || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, name) {
			t.Errorf("%s: exit %v, stderr %q; want failure with one line naming %s", bad, err, msg, name)
		}
	}
}

// connectSDK starts the binary under the official Go SDK client.
func connectSDK(t testing.TB, env []string) *sdk.ClientSession {
	t.Helper()
	cmd := exec.Command(binPath)
	cmd.Env = env
	c := sdk.NewClient(&sdk.Implementation{Name: "go-sdk-interop", Version: "1"}, nil)
	sess, err := c.Connect(context.Background(), &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sess.Close() })
	return sess
}

// TestInteropGoSDK: a client no one here wrote lists the tools and calls
// chat and list_models; structuredContent is validated against each tool's
// outputSchema.
func TestInteropGoSDK(t *testing.T) {
	g := fakegateway.New(t)
	sess := connectSDK(t, baseEnv(t, "WENWEN_API_KEY="+fakegateway.Key, "WENWEN_BASE_URL="+g.URL))
	ctx := t.Context()
	list, err := sess.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	schemas := map[string]*jsonschema.Resolved{}
	for _, tool := range list.Tools {
		raw, _ := json.Marshal(tool.OutputSchema)
		var s jsonschema.Schema
		if err := json.Unmarshal(raw, &s); err != nil {
			t.Fatalf("%s: output schema: %v", tool.Name, err)
		}
		rs, err := s.Resolve(nil)
		if err != nil {
			t.Fatalf("%s: output schema does not resolve: %v", tool.Name, err)
		}
		schemas[tool.Name] = rs
		in, _ := json.Marshal(tool.InputSchema)
		if !bytes.Contains(in, []byte(`"type":"object"`)) {
			t.Errorf("%s: input schema without root type object: %s", tool.Name, in)
		}
	}
	calls := []struct {
		name string
		args map[string]any
	}{
		{"chat", map[string]any{"prompt": "hi from the go sdk"}},
		{"chat", map[string]any{"prompt": "json", "json_schema": map[string]any{"type": "object", "properties": map[string]any{"n": map[string]any{"type": "integer"}}}}},
		{"list_models", map[string]any{"kind": "chat"}},
	}
	for _, c := range calls {
		res, err := sess.CallTool(ctx, &sdk.CallToolParams{Name: c.name, Arguments: c.args})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if res.IsError {
			t.Fatalf("%s: isError: %v", c.name, res.Content)
		}
		raw, _ := json.Marshal(res.StructuredContent)
		var inst any
		json.Unmarshal(raw, &inst)
		if err := schemas[c.name].Validate(inst); err != nil {
			t.Errorf("%s: structuredContent %s does not match outputSchema: %v", c.name, raw, err)
		}
	}
}

// TestSixteenConcurrentCalls: 16 slow chat calls overlap at the gateway
// instead of queueing behind a worker pool of 5.
func TestSixteenConcurrentCalls(t *testing.T) {
	g := fakegateway.New(t, fakegateway.WithSlowDelay(time.Second))
	sess := connectSDK(t, baseEnv(t, "WENWEN_API_KEY="+fakegateway.Key, "WENWEN_BASE_URL="+g.URL))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := sess.CallTool(t.Context(), &sdk.CallToolParams{Name: "chat", Arguments: map[string]any{"prompt": fmt.Sprint("call ", i), "model": fakegateway.ModelFaultSlow}})
			if err == nil && res.IsError {
				err = fmt.Errorf("isError: %v", res.Content)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := g.MaxInFlight(); got < 16 {
		t.Errorf("at most %d calls were at the gateway at once; want all 16 overlapping", got)
	}
}

// TestCanaryKeyNeverPrinted runs the binary with a canary key over failing
// paths at debug level; the key must appear on neither stdout nor stderr.
func TestCanaryKeyNeverPrinted(t *testing.T) {
	const canary = "sk-CANARYmain7f3e9a1b2c"
	g := fakegateway.New(t) // accepts only its own key: every call is a 401
	dead := "http://127.0.0.1:1"
	for _, base := range []string{g.URL, dead} {
		s := startRaw(t, baseEnv(t, "WENWEN_API_KEY="+canary, "WENWEN_BASE_URL="+base, "WENWEN_LOG_LEVEL=debug", "WENWEN_TIMEOUT=5s"))
		s.send(t, initLine)
		s.send(t, initializedLine)
		calls := []string{
			`{"name":"chat","arguments":{"prompt":"hi"}}`,
			`{"name":"chat","arguments":{"prompt":"hi","model":"fault-cut"}}`,
			`{"name":"list_models","arguments":{}}`,
		}
		for i, c := range calls {
			s.send(t, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"tools/call","params":%s}`, 10+i, c))
		}
		var out bytes.Buffer
		for i := range calls {
			msg := s.readID(t, 10+i)
			b, _ := json.Marshal(msg)
			out.Write(b)
			if res, _ := msg["result"].(map[string]any); res["isError"] != true {
				t.Errorf("%s: call %d succeeded with a wrong key: %s", base, i, b)
			}
		}
		s.stdin.Close()
		s.cmd.Wait()
		for name, text := range map[string]string{"stdout": out.String(), "stderr": s.stderr.String()} {
			if strings.Contains(text, "CANARY") {
				t.Errorf("%s: the key appears on %s: %s", base, name, text)
			}
		}
	}
}

// BenchmarkColdStart measures spawn-to-initialize-answer of the server with
// all tools, and of a bare mcp-go server with one tool in the same run; the
// ratio is the target (within 1.5x).
func BenchmarkColdStart(b *testing.B) {
	bare := filepath.Join(b.TempDir(), "baremcp")
	if out, err := exec.Command("go", "build", "-o", bare, "./testdata/baremcp").CombinedOutput(); err != nil {
		b.Fatalf("build bare: %v\n%s", err, out)
	}
	measure := func(bin string) time.Duration {
		start := time.Now()
		cmd := exec.Command(bin)
		cmd.Env = baseEnv(b, "WENWEN_API_KEY=sk-x")
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		io.WriteString(stdin, initLine+"\n")
		if _, err := bufio.NewReader(stdout).ReadBytes('\n'); err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		stdin.Close()
		cmd.Wait()
		return d
	}
	var ours, base []time.Duration
	for b.Loop() {
		ours = append(ours, measure(binPath))
		base = append(base, measure(bare))
	}
	o, s := median(ours), median(base)
	b.ReportMetric(float64(o.Microseconds())/1000, "ms-wenwen")
	b.ReportMetric(float64(s.Microseconds())/1000, "ms-bare")
	b.ReportMetric(float64(o)/float64(s), "ratio")
}

// BenchmarkLoad16 runs 16 concurrent chat calls per iteration against the
// spawned binary and reports the server's peak RSS (Linux).
func BenchmarkLoad16(b *testing.B) {
	g := fakegateway.New(b, fakegateway.WithSlowDelay(50*time.Millisecond))
	cmd := exec.Command(binPath)
	cmd.Env = baseEnv(b, "WENWEN_API_KEY="+fakegateway.Key, "WENWEN_BASE_URL="+g.URL, "WENWEN_LOG_LEVEL=warn")
	c := sdk.NewClient(&sdk.Implementation{Name: "load", Version: "1"}, nil)
	sess, err := c.Connect(context.Background(), &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer sess.Close()
	for b.Loop() {
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				model := "gpt-4o-mini"
				if i%2 == 0 {
					model = fakegateway.ModelFaultSlow
				}
				res, err := sess.CallTool(context.Background(), &sdk.CallToolParams{Name: "chat", Arguments: map[string]any{"prompt": "load", "model": model}})
				if err != nil || res.IsError {
					b.Errorf("call: %v %v", err, res)
				}
			}()
		}
		wg.Wait()
	}
	if kb := peakRSSKB(cmd.Process.Pid); kb > 0 {
		b.ReportMetric(float64(kb)/1024, "peak-RSS-MB")
	}
	b.ReportMetric(float64(g.MaxInFlight()), "max-in-flight")
}

func peakRSSKB(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// TestInspectorCLI drives the binary with the MCP Inspector CLI from npm (a
// client no one here wrote) against the fake gateway. It needs npx and the
// npm registry, so it runs only with WENWEN_TEST_INSPECTOR=1.
func TestInspectorCLI(t *testing.T) {
	if os.Getenv("WENWEN_TEST_INSPECTOR") != "1" {
		t.Skip("set WENWEN_TEST_INSPECTOR=1 to run the MCP Inspector CLI (needs npx and the npm registry)")
	}
	if _, err := exec.LookPath("npx"); err != nil {
		t.Skip("npx not found")
	}
	g := fakegateway.New(t)
	runInspector := func(args ...string) string {
		t.Helper()
		full := append([]string{"-y", "@modelcontextprotocol/inspector@0.21.2", "--cli",
			"-e", "WENWEN_API_KEY=" + fakegateway.Key, "-e", "WENWEN_BASE_URL=" + g.URL, "-e", "HOME=" + t.TempDir(),
			binPath}, args...)
		cmd := exec.Command("npx", full...)
		out, err := cmd.CombinedOutput()
		t.Logf("$ npx %s\n%s", strings.Join(full, " "), out)
		if err != nil {
			t.Fatalf("inspector: %v", err)
		}
		return string(out)
	}
	if out := runInspector("--method", "tools/list"); !strings.Contains(out, `"name": "chat"`) {
		t.Errorf("tools/list output lacks chat")
	}
	if out := runInspector("--method", "tools/call", "--tool-name", "list_models", "--tool-arg", "kind=chat"); !strings.Contains(out, "gpt-4o-mini") || strings.Contains(out, `"isError": true`) {
		t.Errorf("list_models output lacks gpt-4o-mini or is an error")
	}
	if out := runInspector("--method", "tools/call", "--tool-name", "chat", "--tool-arg", "prompt=hi"); !strings.Contains(out, `You said: \"hi\"`) || strings.Contains(out, `"isError": true`) {
		t.Errorf("chat output lacks the answer or is an error")
	}
}

// TestNoStrayStdoutWrites is the lint rule that keeps stdout for the
// protocol: no non-test source may print to the process's stdout. main.go
// may name os.Stdout only to hand it to the server.
func TestNoStrayStdoutWrites(t *testing.T) {
	forbidden := []string{"fmt.Print(", "fmt.Println(", "fmt.Printf(", "println(", "os.Stdout.Write", "log.Print", "log.Fatal"}
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			code, _, _ := strings.Cut(line, "//")
			for _, f := range forbidden {
				if strings.Contains(code, f) {
					t.Errorf("%s:%d writes to stdout (%s): log to stderr with zerolog instead", path, i+1, f)
				}
			}
			if strings.Contains(code, "os.Stdout") && path != "main.go" {
				t.Errorf("%s:%d uses os.Stdout: only main.go may, to give it to the server", path, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKillAndRestartKeepsJobs: the server is killed (SIGKILL, no chance to
// clean up) while a Midjourney job runs upstream; a new server on the same
// directories answers get_job for the finished job and resumes the running
// one to the end, without paying for it again.
func TestKillAndRestartKeepsJobs(t *testing.T) {
	g := fakegateway.New(t)
	g.SetTaskDuration(300 * time.Millisecond)
	env := baseEnv(t, "WENWEN_API_KEY="+fakegateway.Key, "WENWEN_BASE_URL="+g.URL, "WENWEN_OUTPUT_DIR="+t.TempDir(), "WENWEN_TOOLSETS=all")

	type job struct {
		JobID  string `json:"job_id"`
		Status string `json:"status"`
		Result *struct {
			TaskID string `json:"task_id"`
			Files  []struct {
				Path string `json:"path"`
			} `json:"files"`
		} `json:"result"`
	}
	call := func(sess *sdk.ClientSession, name string, args map[string]any) job {
		t.Helper()
		res, err := sess.CallTool(t.Context(), &sdk.CallToolParams{Name: name, Arguments: args})
		if err != nil || res.IsError {
			t.Fatalf("%s: %v %v", name, err, res)
		}
		raw, _ := json.Marshal(res.StructuredContent)
		var j job
		if err := json.Unmarshal(raw, &j); err != nil {
			t.Fatal(err)
		}
		return j
	}

	cmd := exec.Command(binPath)
	cmd.Env = env
	c := sdk.NewClient(&sdk.Implementation{Name: "kill-test", Version: "1"}, nil)
	sess, err := c.Connect(context.Background(), &sdk.CommandTransport{Command: cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := call(sess, "mj_imagine", map[string]any{"prompt": "a finished cat"})
	if done.Status != "succeeded" || done.Result == nil || len(done.Result.Files) != 1 {
		t.Fatalf("first job: %+v", done)
	}
	g.SetTaskDuration(3 * time.Second)
	running := call(sess, "mj_imagine", map[string]any{"prompt": "a slow cat", "wait_seconds": 0})
	for deadline := time.Now().Add(5 * time.Second); ; {
		j := call(sess, "get_job", map[string]any{"job_id": running.JobID, "wait_seconds": 0})
		if j.Result != nil && j.Result.TaskID != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running job never got its task id: %+v", j)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	sess.Close() // the SDK's transport reaps the killed process

	sess2 := connectSDK(t, env)
	again := call(sess2, "get_job", map[string]any{"job_id": done.JobID, "wait_seconds": 0})
	if again.Status != "succeeded" || again.Result == nil || len(again.Result.Files) != 1 || again.Result.Files[0].Path != done.Result.Files[0].Path {
		t.Errorf("finished job after kill and restart: %+v; want its saved file", again)
	}
	resumed := call(sess2, "get_job", map[string]any{"job_id": running.JobID, "wait_seconds": 20})
	if resumed.Status != "succeeded" || resumed.Result == nil || len(resumed.Result.Files) != 1 {
		t.Errorf("running job after kill and restart: %+v; want it resumed and finished", resumed)
	} else if _, err := os.Stat(resumed.Result.Files[0].Path); err != nil {
		t.Errorf("resumed job's file: %v", err)
	}
	if n := g.Count(fakegateway.RouteMJImagine); n != 2 {
		t.Errorf("imagine submitted %d times; want 2 (the resumed job polls, it does not pay again)", n)
	}
}

// TestTerminalHint starts the server on a terminal (through script(1), which
// gives it a pseudo-terminal): it prints how an MCP client runs it, and logs
// in the readable console format. On a pipe neither happens.
func TestTerminalHint(t *testing.T) {
	scriptPath, err := exec.LookPath("script")
	if err != nil || runtime.GOOS != "linux" {
		t.Skip("needs util-linux script(1)")
	}
	cmd := exec.Command(scriptPath, "-q", "-e", "-c", binPath, "/dev/null")
	cmd.Env = baseEnv(t)
	cmd.Stdin = strings.NewReader("") // script ends the session when its input ends
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "claude mcp add wenwen") || !strings.Contains(string(out), "WRN") {
		t.Errorf("on a terminal: %q; want the hint and console-format logs", out)
	}
	s := startRaw(t, baseEnv(t))
	s.stdin.Close()
	s.cmd.Wait()
	if strings.Contains(s.stderr.String(), "claude mcp add") || !strings.Contains(s.stderr.String(), `"level":"warn"`) {
		t.Errorf("on a pipe: stderr %q; want JSON logs and no hint", s.stderr.String())
	}
}
