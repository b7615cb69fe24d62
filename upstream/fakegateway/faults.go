package fakegateway

import "net/http"

// Fault models: a request naming one of these misbehaves as described in the
// package documentation.
const (
	ModelFault429            = "fault-429"
	ModelFault429Empty       = "fault-429-empty"
	ModelFault500            = "fault-500"
	ModelFault502HTML        = "fault-502html"
	ModelFault503CPU         = "fault-503-cpu"
	ModelFault401Upstream    = "fault-401-upstream"
	ModelFaultQuotaToken     = "fault-quota-token"
	ModelFaultQuotaUser      = "fault-quota-user"
	ModelFaultNotAllowed     = "fault-not-allowed"
	ModelFaultUnpriced       = "fault-unpriced"
	ModelFaultError200       = "fault-error200"
	ModelFaultTrunc          = "fault-trunc"
	ModelFaultCut            = "fault-cut"
	ModelFaultSSEError       = "fault-sse-error"
	ModelFaultBadJSON        = "fault-badjson"
	ModelFaultBadJSONContent = "fault-badjson-content"
	ModelFaultSlow           = "fault-slow"
)

// FaultRecordings returns the recordings that [Gateway.ReplayFault] plays for
// model, for a plain and a stream request; ok is false when the model's fault
// is not a plain replay.
func FaultRecordings(model string) (plain, stream string, ok bool) {
	switch model {
	case ModelFault429:
		return "upstream-429", "upstream-429-stream", true
	case ModelFault429Empty:
		return "rate-limit-model-request-success-count", "rate-limit-model-request-success-count", true
	case ModelFault500:
		return "upstream-500", "upstream-500-stream", true
	case ModelFault502HTML:
		return "upstream-502html", "upstream-502html-stream", true
	case ModelFault503CPU:
		return "system-cpu-overloaded", "system-cpu-overloaded", true
	case ModelFault401Upstream:
		return "upstream-401", "upstream-401", true
	case ModelFaultQuotaToken:
		return "token-quota-exhausted", "token-quota-exhausted", true
	case ModelFaultQuotaUser:
		return "user-quota-insufficient", "user-quota-insufficient", true
	case ModelFaultNotAllowed:
		return "model-not-allowed-for-token", "model-not-allowed-for-token", true
	case ModelFaultUnpriced:
		return "model-unpriced", "model-unpriced", true
	}
	return "", "", false
}

// ReplayFault answers the fault models whose answer does not depend on the
// route's wire format: the recorded gateway and upstream errors
// ([FaultRecordings]), fault-error200, and fault-trunc on a plain request. It
// returns false, having written nothing, for any other model; route handlers
// deal with the rest (fault-trunc streams, fault-cut, fault-sse-error,
// fault-badjson, fault-badjson-content, fault-slow).
func (g *Gateway) ReplayFault(w http.ResponseWriter, model string, stream bool) bool {
	if plain, streamRec, ok := FaultRecordings(model); ok {
		switch {
		case !stream:
			g.Replay(w, plain)
		case model == ModelFault401Upstream:
			// No stream recording: an upstream error on a stream request keeps
			// the SSE header set, like upstream-429-stream.
			rec, err := LoadRecording(plain)
			if err != nil {
				g.t.Errorf("fakegateway: %v", err)
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return true
			}
			rec.Header.Set("Content-Type", "text/event-stream")
			rec.Header.Set("Cache-Control", "no-cache")
			rec.Header.Set("X-Accel-Buffering", "no")
			writeRecording(w, rec)
		default:
			g.Replay(w, streamRec)
		}
		return true
	}
	switch {
	case model == ModelFaultError200:
		g.replaySubst(w, "models-retrieve-unknown", "gpt-9-unknown", model)
		return true
	case model == ModelFaultTrunc && !stream:
		g.Replay(w, "upstream-trunc")
		return true
	}
	return false
}
