package upstream

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wenwen-ai/wenwen-mcp/upstream/fakegateway"
)

// TestDecodeRecordedErrors replays every recorded error answer of the real
// gateway software through decodeError and checks what the user is told.
func TestDecodeRecordedErrors(t *testing.T) {
	tests := []struct {
		recording string
		status    int
		kind      Kind
		code      string
		envelope  string
		msg       string // substring of Message
	}{
		{"badkey-chat", 401, KindBadKey, "", "openai", "Invalid token"},
		{"badkey-messages", 401, KindBadKey, "", "openai", "Invalid token"},
		{"badkey-gemini", 401, KindBadKey, "", "openai", "Invalid token"},
		{"badkey-mj-imagine", 401, KindBadKey, "", "openai", "Invalid token"},
		{"badkey-images", 401, KindBadKey, "", "openai", "Invalid token"},
		{"badkey-embeddings", 401, KindBadKey, "", "openai", "Invalid token"},
		{"badkey-audio-transcriptions", 401, KindBadKey, "", "openai", "Invalid token"},
		{"models-bad-token-zh", 401, KindBadKey, "", "openai", "无效的令牌"},
		{"models-no-token", 401, KindBadKey, "", "openai", "Invalid token"},
		{"token-expired", 401, KindBadKey, "", "openai", ""},
		{"token-disabled", 401, KindBadKey, "", "openai", ""},
		{"token-quota-negative-after-mj", 401, KindBadKey, "", "openai", ""},
		{"upstream-401", 401, KindUpstreamAuth, "invalid_api_key", "openai", "***"},
		{"token-quota-exhausted", 403, KindTokenQuota, "pre_consume_token_quota_failed", "openai", "token quota is not enough"},
		{"user-quota-insufficient", 403, KindUserQuota, "insufficient_user_quota", "openai", "用户额度不足"},
		{"user-quota-insufficient-zh", 403, KindUserQuota, "insufficient_user_quota", "openai", "用户额度不足"},
		{"messages-user-quota-insufficient", 403, KindUserQuota, "", "anthropic", "用户额度不足"},
		{"mj-submit-imagine-user-quota-insufficient", 400, KindUserQuota, "4", "midjourney", "quota_not_enough"},
		{"model-not-allowed-for-token", 403, KindModelNotAllowed, "", "openai", "no access to model dall-e-3"},
		{"model-not-allowed-for-token-zh", 403, KindModelNotAllowed, "", "openai", "无权访问模型"},
		{"model-unknown", 503, KindModelNotFound, "model_not_found", "openai", "No available channel"},
		{"model-unknown-zh", 503, KindModelNotFound, "model_not_found", "openai", "无可用渠道"},
		{"messages-model-unknown", 503, KindModelNotFound, "model_not_found", "openai", ""},
		{"gemini-model-unknown", 503, KindModelNotFound, "model_not_found", "openai", ""},
		{"images-model-unknown", 503, KindModelNotFound, "model_not_found", "openai", ""},
		{"chat-stream-model-unknown", 503, KindModelNotFound, "model_not_found", "openai", ""},
		{"model-unpriced", 400, KindModelUnpriced, "model_price_error", "openai", "price not configured"},
		{"system-cpu-overloaded", 503, KindOverloaded, "system_cpu_overloaded", "openai", "cpu overloaded"},
		{"upstream-429", 429, KindRateLimited, "rate_limit_exceeded", "openai", "Rate limit reached"},
		{"upstream-429-stream", 429, KindRateLimited, "rate_limit_exceeded", "openai", ""},
		{"messages-upstream-429", 429, KindRateLimited, "rate_limit_exceeded", "anthropic", "Rate limit reached"},
		{"gemini-upstream-429", 429, KindRateLimited, "rate_limit_exceeded", "openai", ""},
		{"rate-limit-model-request-success-count", 429, KindRateLimited, "", "empty", "empty body"},
		{"upstream-500", 500, KindUpstreamFailed, "", "openai", ""},
		{"upstream-500-stream", 500, KindUpstreamFailed, "", "openai", ""},
		{"messages-upstream-500-stream", 500, KindUpstreamFailed, "", "anthropic", ""},
		{"upstream-502html", 502, KindUpstreamFailed, "bad_response_status_code", "openai", "openai_error"},
		{"upstream-502html-stream", 502, KindUpstreamFailed, "bad_response_status_code", "openai", ""},
		{"upstream-trunc", 500, KindUpstreamFailed, "read_response_body_failed", "openai", "unexpected EOF"},
		{"audio-transcriptions-invalid-wav", 500, KindUpstreamFailed, "count_token_failed", "openai", "invalid wav"},
		{"body-not-json", 400, KindBadRequest, "", "openai", "invalid JSON request body"},
		{"body-empty", 400, KindBadRequest, "", "openai", ""},
		{"mj-submit-imagine-empty-prompt", 400, KindBadRequest, "4", "midjourney", "prompt_is_required"},
		{"mj-task-fetch-unknown-id", 400, KindBadRequest, "4", "midjourney", "task_no_found"},
		{"unknown-route", 404, KindNotFound, "", "openai", "Invalid URL (POST /v1/xyz)"},
		{"models-retrieve-unknown", 200, KindModelNotFound, "model_not_found", "openai", "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.recording, func(t *testing.T) {
			rec, err := fakegateway.LoadRecording(tt.recording)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Status != tt.status {
				t.Fatalf("recording status = %d; want %d", rec.Status, tt.status)
			}
			var e *APIError
			if rec.Status == http.StatusOK {
				e = errorInBody(rec.Status, rec.Header, rec.Body)
				if e == nil {
					t.Fatal("errorInBody = nil; want the error carried on HTTP 200")
				}
			} else {
				e = decodeError(rec.Status, rec.Header, rec.Body)
			}
			if got := e.Kind(); got != tt.kind {
				t.Errorf("Kind() = %v; want %v (err %v)", got, tt.kind, e)
			}
			if e.Code != tt.code {
				t.Errorf("Code = %q; want %q", e.Code, tt.code)
			}
			if e.Envelope != tt.envelope {
				t.Errorf("Envelope = %q; want %q", e.Envelope, tt.envelope)
			}
			if !strings.Contains(e.Message, tt.msg) {
				t.Errorf("Message = %q; want it to contain %q", e.Message, tt.msg)
			}
			if strings.Contains(e.Message, "(request id:") {
				t.Errorf("Message = %q still carries the request-id suffix", e.Message)
			}
			if rid := rec.Header.Get("X-Oneapi-Request-Id"); rid != "" && e.RequestID != rid {
				t.Errorf("RequestID = %q; want %q", e.RequestID, rid)
			}
			if e.Hint() == "" {
				t.Error("Hint() is empty")
			}
		})
	}
}

func TestSuccessBodiesAreNotErrors(t *testing.T) {
	for _, name := range []string{"chat-ok", "models-ok", "models-retrieve-known", "images-ok", "embeddings-ok", "messages-ok-openai-channel", "gemini-generate-ok-openai-channel", "mj-submit-imagine-ok", "mj-task-fetch-success"} {
		rec, err := fakegateway.LoadRecording(name)
		if err != nil {
			t.Fatal(err)
		}
		if e := errorInBody(rec.Status, rec.Header, rec.Body); e != nil {
			t.Errorf("%s: errorInBody = %v; want nil", name, e)
		}
	}
}

func TestRetryAfterParsing(t *testing.T) {
	h := http.Header{}
	h.Set("Retry-After", "7")
	e := decodeError(429, h, nil)
	if e.RetryAfter != 7*time.Second || e.RetryWait() != 7*time.Second {
		t.Errorf("RetryAfter = %v, RetryWait = %v; want 7s", e.RetryAfter, e.RetryWait())
	}
	if !strings.Contains(e.Hint(), "7 s") {
		t.Errorf("Hint() = %q; want the wait in it", e.Hint())
	}
	h.Set("Retry-After", time.Now().Add(30*time.Second).UTC().Format(http.TimeFormat))
	if d := decodeError(429, h, nil).RetryAfter; d < 25*time.Second || d > 31*time.Second {
		t.Errorf("RetryAfter from HTTP date = %v; want about 30s", d)
	}
	if d := decodeError(429, http.Header{}, nil).RetryWait(); d <= 0 {
		t.Errorf("RetryWait without header = %v; want a positive default", d)
	}
}

func TestStreamErrorUnwraps(t *testing.T) {
	api := &APIError{StatusCode: 200, Message: "overloaded"}
	var err error = &StreamError{Reason: "error event", Err: api}
	var got *APIError
	if !errors.Is(err, ErrStreamCut) || !errors.As(err, &got) || got != api {
		t.Errorf("StreamError does not unwrap to ErrStreamCut and its *APIError")
	}
}
