package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// decodeJSON reads one JSON object from the request body into dst, strictly: the content type
// must be application/json (415), the body at most maxBytes (413), well-formed, a single value
// with no trailing data and no field dst does not know (400). It never changes anything else.
func decodeJSON(w http.ResponseWriter, r *http.Request, maxBytes int64, dst any) *apiError {
	if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if r.ContentLength > maxBytes {
		return tooLarge(maxBytes)
	}
	return decodeStrict(http.MaxBytesReader(w, r.Body, maxBytes), maxBytes, dst)
}

func checkJSONContentType(ct string) *apiError {
	if ct == "" {
		return &apiError{http.StatusUnsupportedMediaType, codeUnsupportedType, "Content-Type must be application/json"}
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return &apiError{http.StatusUnsupportedMediaType, codeUnsupportedType, "Content-Type must be application/json"}
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return &apiError{http.StatusUnsupportedMediaType, codeUnsupportedType, "JSON must be UTF-8"}
	}
	return nil
}

// decodeStrict is the body half of decodeJSON, apart so that it can be fuzzed without HTTP.
func decodeStrict(body io.Reader, maxBytes int64, dst any) *apiError {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err, maxBytes)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(maxBytes)
		}
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "body must hold a single JSON object"}
	}
	return nil
}

func jsonError(err error, maxBytes int64) *apiError {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		mbe       *http.MaxBytesError
	)
	switch {
	case errors.As(err, &mbe):
		return tooLarge(maxBytes)
	case errors.Is(err, io.EOF):
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "body is empty"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "body is truncated JSON"}
	case errors.As(err, &syntaxErr):
		return &apiError{http.StatusBadRequest, codeInvalidJSON, fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset)}
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return &apiError{http.StatusBadRequest, codeInvalidField, fmt.Sprintf("field %q must be a %s", typeErr.Field, typeErr.Type)}
		}
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "body must be a JSON object"}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for this; the field name is quoted by it, so echoing it
		// is safe (it is JSON-escaped again in the response).
		return &apiError{http.StatusBadRequest, codeInvalidField, "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")}
	default:
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "malformed JSON"}
	}
}

func tooLarge(maxBytes int64) *apiError {
	return &apiError{http.StatusRequestEntityTooLarge, codeTooLarge, fmt.Sprintf("body must be at most %d bytes", maxBytes)}
}
