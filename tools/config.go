package tools

import (
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
	"github.com/rs/zerolog"

	"github.com/wenwen-ai/wenwen-mcp/upstream"
)

// Config is the whole configuration, read from WENWEN_* environment
// variables. Every field has a row in the README (a test checks it); the
// desc tag is that row's text.
type Config struct {
	APIKey     string        `env:"API_KEY" desc:"Your wenwen key (sk-…). Without it the server starts and lists its tools, and every gateway tool explains how to set it."`
	BaseURL    string        `env:"BASE_URL" envDefault:"https://api.wenwen-ai.com" desc:"Gateway address, without /v1."`
	ChatModel  string        `env:"CHAT_MODEL" envDefault:"gpt-4o-mini" desc:"Model used by chat when the call names none."`
	ImageModel string        `env:"IMAGE_MODEL" envDefault:"gpt-image-1" desc:"Model used by generate_image and edit_image when the call names none."`
	Timeout    time.Duration `env:"TIMEOUT" envDefault:"120s" desc:"Deadline of each gateway request (Go duration: 90s, 5m)."`
	OutputDir  string        `env:"OUTPUT_DIR" envDefault:"~/wenwen-mcp" desc:"Where generated files are saved (created on demand)."`
	SaveMedia  bool          `env:"SAVE_MEDIA" envDefault:"true" desc:"false keeps gateway URLs only and saves nothing to disk."`
	LogLevel   string        `env:"LOG_LEVEL" envDefault:"info" desc:"Log level on stderr: debug, info, warn, error."`
	// Long jobs (tools/jobs, video.go, midjourney.go).
	VideoModel string        `env:"VIDEO_MODEL" envDefault:"sora_video2" desc:"Model used by generate_video when the call names none."`
	JobsDir    string        `env:"JOBS_DIR" desc:"Where job records are kept so that jobs survive a restart (default: .jobs inside WENWEN_OUTPUT_DIR)."`
	MaxJobs    int           `env:"MAX_JOBS" envDefault:"8" desc:"How many long jobs (videos, Midjourney) run at once; more wait in a queue."`
	JobTimeout time.Duration `env:"JOB_TIMEOUT" envDefault:"30m" desc:"How long one video or Midjourney job may take before it is given up (Go duration)."`
	MaxWait    time.Duration `env:"MAX_WAIT" envDefault:"300s" desc:"Longest wait_seconds a call may ask for; longer jobs return a job_id to follow with get_job."`
	// Tool selection (toolsets.go); the --toolsets, --tools and --exclude-tools flags override these.
	Toolsets     []string `env:"TOOLSETS" envDefault:"default" desc:"Comma list of toolsets to serve (models, chat, images, video, midjourney, jobs, audio, embeddings, responses, anthropic, gemini), or all, or default (models, chat, images, video, jobs)."`
	Tools        []string `env:"TOOLS" desc:"Comma list of single tools to serve on top of the toolsets, e.g. embed_text."`
	ExcludeTools []string `env:"EXCLUDE_TOOLS" desc:"Comma list of tools not to serve."`
}

// ParseConfig reads the configuration from environ (KEY=VALUE pairs, as
// os.Environ gives them); home expands a leading ~ in paths. Invalid values
// give a one-line error naming the variable.
func ParseConfig(environ []string, home string) (Config, error) {
	vars := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	var cfg Config
	err := env.ParseWithOptions(&cfg, env.Options{Environment: vars, Prefix: "WENWEN_"})
	if err != nil {
		var agg env.AggregateError
		if errors.As(err, &agg) && len(agg.Errors) > 0 {
			err = agg.Errors[0]
		}
		var pe env.ParseError
		if errors.As(err, &pe) {
			name := "WENWEN_" + envTag(pe.Name)
			return Config{}, fmt.Errorf("invalid configuration: %s=%q: %s", name, vars[name], wantFor(pe.Type, pe.Err))
		}
		return Config{}, fmt.Errorf("invalid configuration: %v", err)
	}
	return cfg.normalize(home)
}

func wantFor(t reflect.Type, err error) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "want a duration such as 90s or 5m"
	case t.Kind() == reflect.Bool:
		return "want true or false"
	case t.Kind() == reflect.Int:
		return "want a whole number"
	}
	return err.Error()
}

// envTag is the variable name (without prefix) of a Config field.
func envTag(field string) string {
	if f, ok := reflect.TypeFor[Config]().FieldByName(field); ok {
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		return name
	}
	return strings.ToUpper(field)
}

func (c Config) normalize(home string) (Config, error) {
	c.APIKey = strings.TrimSpace(c.APIKey)
	if strings.IndexFunc(c.APIKey, func(r rune) bool { return r <= ' ' }) >= 0 {
		return c, errors.New("invalid configuration: WENWEN_API_KEY contains spaces or control characters")
	}
	u, err := upstream.ParseBaseURL(c.BaseURL)
	if err != nil {
		return c, fmt.Errorf("invalid configuration: WENWEN_BASE_URL: %v", err)
	}
	c.BaseURL = u.String()
	if c.Timeout <= 0 {
		return c, fmt.Errorf("invalid configuration: WENWEN_TIMEOUT=%v: must be positive", c.Timeout)
	}
	if strings.TrimSpace(c.ChatModel) == "" {
		return c, errors.New("invalid configuration: WENWEN_CHAT_MODEL is empty")
	}
	if strings.TrimSpace(c.ImageModel) == "" {
		return c, errors.New("invalid configuration: WENWEN_IMAGE_MODEL is empty")
	}
	if _, err := zerolog.ParseLevel(strings.ToLower(c.LogLevel)); err != nil || c.LogLevel == "" {
		return c, fmt.Errorf("invalid configuration: WENWEN_LOG_LEVEL=%q: want debug, info, warn or error", c.LogLevel)
	}
	c.LogLevel = strings.ToLower(c.LogLevel)
	dir, err := expandHome(c.OutputDir, home)
	if err != nil {
		return c, fmt.Errorf("invalid configuration: WENWEN_OUTPUT_DIR: %v", err)
	}
	c.OutputDir = dir
	if strings.TrimSpace(c.JobsDir) == "" {
		c.JobsDir = filepath.Join(c.OutputDir, ".jobs")
	} else if c.JobsDir, err = expandHome(c.JobsDir, home); err != nil {
		return c, fmt.Errorf("invalid configuration: WENWEN_JOBS_DIR: %v", err)
	}
	switch {
	case strings.TrimSpace(c.VideoModel) == "":
		return c, errors.New("invalid configuration: WENWEN_VIDEO_MODEL is empty")
	case c.MaxJobs < 1 || c.MaxJobs > 1000:
		return c, fmt.Errorf("invalid configuration: WENWEN_MAX_JOBS=%d: want 1 to 1000", c.MaxJobs)
	case c.JobTimeout < time.Minute:
		return c, fmt.Errorf("invalid configuration: WENWEN_JOB_TIMEOUT=%v: want at least 1m", c.JobTimeout)
	case c.MaxWait < time.Second || c.MaxWait > time.Hour:
		return c, fmt.Errorf("invalid configuration: WENWEN_MAX_WAIT=%v: want 1s to 1h", c.MaxWait)
	}
	return c, nil
}

func expandHome(p, home string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", errors.New("empty path")
	}
	if p == "~" || strings.HasPrefix(p, "~/") || strings.HasPrefix(p, `~\`) {
		if home == "" {
			return "", fmt.Errorf("%q starts with ~ but the home directory is unknown", p)
		}
		p = filepath.Join(home, p[1:])
	}
	if !filepath.IsAbs(p) {
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", err
		}
		p = abs
	}
	return filepath.Clean(p), nil
}
