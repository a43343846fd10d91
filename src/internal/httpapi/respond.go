package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/platform-template/template-api/src/internal/reqlog"
)

// Error codes of the JSON error body. Clients branch on these, not on messages.
const (
	codeBadRequest       = "bad_request"
	codeInvalidJSON      = "invalid_json"
	codeInvalidField     = "invalid_field"
	codeInvalidID        = "invalid_id"
	codeInvalidQuery     = "invalid_query"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeTooLarge         = "body_too_large"
	codeRequestTimeout   = "request_timeout"
	codeUnsupportedType  = "unsupported_media_type"
	codeUnavailable      = "unavailable"
	codeInternal         = "internal"
)

// errorBody is the one error shape of the API:
// {"error":{"code":"...","message":"..."},"trace_id":"..."}.
type errorBody struct {
	Error   errorDetail `json:"error"`
	TraceID string      `json:"trace_id,omitempty"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// apiError is an error the handlers answer with: its status, code and client-safe message.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// writeJSON answers status with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	setJSONHeaders(w.Header())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeJSONBytes answers status with body, JSON the caller encoded (and ended with a newline).
func writeJSONBytes(w http.ResponseWriter, status int, body []byte) {
	setJSONHeaders(w.Header())
	w.WriteHeader(status)
	_, _ = w.Write(body) //nolint:gosec // JSON from the encoders in encode.go, sent as application/json with nosniff
}

// setJSONHeaders sets the headers of every JSON answer. The keys are canonical already and the
// values share one array: no canonicalization and one allocation instead of three.
func setJSONHeaders(h http.Header) {
	v := &[3]string{"application/json", "no-store", "nosniff"}
	h["Content-Type"] = v[0:1:1]
	h["Cache-Control"] = v[1:2:2]
	h["X-Content-Type-Options"] = v[2:3:3]
}

// writeError answers with the API's error shape, carrying the request's trace id.
func writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	switch {
	case e.code == codeRequestTimeout:
		writeConfirmed(w, r, e, "client_timeout")
	case e.message == msgBodyNotRead:
		writeConfirmed(w, r, e, "client_closed")
	default:
		writeJSON(w, e.status, errorBody{Error: errorDetail{Code: e.code, Message: e.message}, TraceID: reqlog.TraceID(r.Context())})
	}
}

// msgBodyNotRead is the message of a body that stopped before its end (the client closed its
// side of the connection, or the connection broke).
const msgBodyNotRead = "body could not be read to its end"

// writeConfirmed answers a request whose body the client did not finish sending: cut by the
// server's read timeout (408), or ended early (400). The connection is done for: the answer goes
// out with Connection: close and is flushed at once, so that the access line can say what
// happened (outcome) and the status the client really saw: the status if it was delivered, 0 if
// nothing was (a write deadline already passed, or the connection is gone).
func writeConfirmed(w http.ResponseWriter, r *http.Request, e *apiError, outcome string) {
	w.Header().Set("Connection", "close")
	writeJSON(w, e.status, errorBody{Error: errorDetail{Code: e.code, Message: e.message}, TraceID: reqlog.TraceID(r.Context())})
	err := http.NewResponseController(w).Flush()
	if sw, ok := w.(*statusWriter); ok {
		sw.outcome = outcome
		sw.undelivered = err != nil
	}
}
