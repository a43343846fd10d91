package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeJSON reads one JSON object from the request body into dst, strictly: the content type
// must be given once (400) and be application/json (415), the body at most maxBytes (413), and it must be what it claims
// to be (400): valid UTF-8 with no lone surrogate escapes, well-formed, a single object, no key
// twice in any object, and no key that is not exactly one of dst's fields (a key that matches a
// field only when case is ignored is refused, where encoding/json would take it). It never
// changes anything else. A body that stops arriving (cut by the server's read timeout) is a 408
// request_timeout, which writeError answers and logs as the client's timeout, not as bad JSON.
func decodeJSON(w http.ResponseWriter, r *http.Request, maxBytes int64, dst any) *apiError {
	if len(r.Header.Values("Content-Type")) > 1 {
		// One field only (RFC 9110 8.3): net/http reads the first, a proxy in front may read the last.
		return &apiError{http.StatusBadRequest, codeBadRequest, "Content-Type given more than once"}
	}
	if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	if err := checkContentEncoding(r.Header.Values("Content-Encoding")); err != nil {
		// RFC 9110 15.5.16: a 415 for a content coding says which codings would be accepted.
		w.Header().Set("Accept-Encoding", "identity")
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

// checkContentEncoding refuses a body that says it is encoded (gzip, br, ...): the service
// decodes none, and reading such a body as if it were not would store what the client did not
// send (a gzip-labelled plain body would be taken as is, where a proxy in front might have
// decoded or inspected it differently). Only identity, or no Content-Encoding, is read. The
// client's value is not echoed.
func checkContentEncoding(values []string) *apiError {
	for _, v := range values {
		for _, coding := range strings.Split(v, ",") {
			if c := strings.TrimSpace(coding); c != "" && !strings.EqualFold(c, "identity") {
				return &apiError{http.StatusUnsupportedMediaType, codeUnsupportedType, "the body must not be compressed or otherwise encoded (Content-Encoding): send it as is"}
			}
		}
	}
	return nil
}

// decodeStrict is the body half of decodeJSON, apart so that it can be fuzzed without HTTP.
func decodeStrict(body io.Reader, maxBytes int64, dst any) *apiError {
	data, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return tooLarge(maxBytes)
		case errors.Is(err, os.ErrDeadlineExceeded):
			return &apiError{http.StatusRequestTimeout, codeRequestTimeout, "request body not received in time"}
		default:
			return &apiError{http.StatusBadRequest, codeInvalidJSON, msgBodyNotRead}
		}
	}
	if e := checkJSONText(data, jsonFields(dst)); e != nil {
		return e
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	return nil
}

// checkJSONText checks what encoding/json lets through: bytes that are not UTF-8 and \u escapes
// of lone surrogates (both silently become U+FFFD), duplicate keys (the last one silently wins)
// and keys that match a field only when case is ignored (silently taken). It also refuses what
// is not one object, and a second value after it.
func checkJSONText(data []byte, fields []string) *apiError {
	if !utf8.Valid(data) {
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "body is not valid UTF-8"}
	}
	if off := loneSurrogate(data); off >= 0 {
		return &apiError{http.StatusBadRequest, codeInvalidJSON, fmt.Sprintf("a \\u escape at byte %d is a lone surrogate, not a character", off)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return jsonError(err)
	}
	if tok != json.Delim('{') {
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "body must be a JSON object"}
	}
	if e := checkObject(dec, fields, 0); e != nil {
		return e
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "body must hold a single JSON object"}
	}
	return nil
}

// maxDepth bounds the nesting checkObject follows.
const maxDepth = 32

// checkObject reads the members of an object whose '{' was just read: no key twice, in it or in
// any value nested in it; at the top (fields != nil) every key exactly one of fields. What is
// wrong with the JSON itself is reported before a key that is not a field.
func checkObject(dec *json.Decoder, fields []string, depth int) *apiError {
	if depth > maxDepth {
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "JSON nested too deeply"}
	}
	var fieldErr *apiError
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return jsonError(truncated(err))
		}
		key, _ := tok.(string)
		if seen[key] {
			return &apiError{http.StatusBadRequest, codeInvalidJSON, "duplicate key " + quoteShort(key)}
		}
		seen[key] = true
		if fields != nil && fieldErr == nil {
			fieldErr = checkField(key, fields)
		}
		if e := checkValue(dec, depth); e != nil {
			return e
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return jsonError(truncated(err))
	}
	return fieldErr
}

func checkValue(dec *json.Decoder, depth int) *apiError {
	tok, err := dec.Token()
	if err != nil {
		return jsonError(truncated(err))
	}
	switch tok {
	case json.Delim('{'):
		return checkObject(dec, nil, depth+1)
	case json.Delim('['):
		if depth+1 > maxDepth {
			return &apiError{http.StatusBadRequest, codeInvalidJSON, "JSON nested too deeply"}
		}
		for dec.More() {
			if e := checkValue(dec, depth+1); e != nil {
				return e
			}
		}
		if _, err := dec.Token(); err != nil {
			return jsonError(truncated(err))
		}
	}
	return nil
}

// truncated turns the end of the body inside a value into the error that says so.
func truncated(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

func checkField(key string, fields []string) *apiError {
	for _, f := range fields {
		if key == f {
			return nil
		}
	}
	for _, f := range fields {
		if strings.EqualFold(key, f) || foldsLikeEncodingJSON(key, f) {
			return &apiError{http.StatusBadRequest, codeInvalidField, "field " + quoteShort(key) + " must be spelled " + strconv.Quote(f)}
		}
	}
	return &apiError{http.StatusBadRequest, codeInvalidField, "unknown field " + quoteShort(key)}
}

// foldsLikeEncodingJSON reports whether encoding/json would take key for the field f: besides
// simple case folding it folds the Kelvin sign to k and the long s to s.
func foldsLikeEncodingJSON(key, f string) bool {
	r := strings.NewReplacer("\u212a", "k", "\u017f", "s")
	return strings.EqualFold(r.Replace(key), f)
}

// quoteShort quotes a client's key for a message, cut to 64 bytes.
func quoteShort(s string) string {
	if len(s) > 64 {
		s = strings.ToValidUTF8(s[:64], "") + "..."
	}
	return strconv.Quote(s)
}

// loneSurrogate returns the offset of the first \u escape inside a JSON string that encodes a
// surrogate not part of a high-low pair, or -1. Malformed escapes are left to the JSON parser.
func loneSurrogate(data []byte) int {
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 < len(data) && data[i+1] == 'u' {
				r, ok := hex4(data, i+2)
				switch {
				case !ok:
				case r >= 0xdc00 && r <= 0xdfff:
					return i
				case r >= 0xd800 && r <= 0xdbff:
					lo, ok := uint16(0), false
					if i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
						lo, ok = hex4(data, i+8)
					}
					if !ok || lo < 0xdc00 || lo > 0xdfff {
						return i
					}
					i += 6 // the low half is checked here, not again
				}
				i += 5
				continue
			}
			i++ // any other escape is two bytes
		}
	}
	return -1
}

func hex4(data []byte, at int) (uint16, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(data[at:at+4]), 16, 16)
	return uint16(v), err == nil
}

// jsonFields lists the JSON names of the fields of the struct dst points to.
func jsonFields(dst any) []string {
	t := reflect.TypeOf(dst)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-" || !f.IsExported():
		case name == "":
			out = append(out, f.Name)
		default:
			out = append(out, name)
		}
	}
	return out
}

func jsonError(err error) *apiError {
	var (
		syntaxErr *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
	)
	switch {
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
	default:
		return &apiError{http.StatusBadRequest, codeInvalidJSON, "malformed JSON"}
	}
}

func tooLarge(maxBytes int64) *apiError {
	return &apiError{http.StatusRequestEntityTooLarge, codeTooLarge, fmt.Sprintf("body must be at most %d bytes", maxBytes)}
}
