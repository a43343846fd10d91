package httpapi

import (
	"time"
	"unicode/utf8"

	"github.com/platform-template/template-api/src/internal/items"
)

// The item answers are the hot path of the API: they are encoded here by hand, to the very bytes
// encoding/json writes for the same values (TestItemEncodingMatchesEncodingJSON and
// FuzzItemEncoding hold them to it), without its reflection and allocations.

// appendItem appends it as JSON: {"id":"...","name":"...","created_at":"..."}.
func appendItem(b []byte, it items.Item) []byte {
	b = append(b, `{"id":"`...)
	var id [36]byte
	encodeUUID(id[:], it.ID)
	b = append(b, id[:]...)
	b = append(b, `","name":`...)
	b = appendJSONString(b, it.Name)
	b = append(b, `,"created_at":`...)
	b = appendJSONTime(b, it.CreatedAt)
	return append(b, '}')
}

// appendItemList appends a list page: {"items":[...],"next_after":"...","has_more":false}.
func appendItemList(b []byte, list []items.Item, nextAfter string, hasMore bool) []byte {
	b = append(b, `{"items":[`...)
	for i, it := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, it)
	}
	b = append(b, ']')
	if nextAfter != "" {
		b = append(b, `,"next_after":`...)
		b = appendJSONString(b, nextAfter)
	}
	if hasMore {
		return append(b, `,"has_more":true}`...)
	}
	return append(b, `,"has_more":false}`...)
}

func encodeUUID(dst []byte, u [16]byte) {
	const hexDigits = "0123456789abcdef"
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst[j] = '-'
			j++
		}
		dst[j], dst[j+1] = hexDigits[c>>4], hexDigits[c&0xf]
		j += 2
	}
}

// appendJSONTime appends t as encoding/json does (time.Time.MarshalJSON): RFC 3339 with
// nanoseconds, quoted. Years outside 0-9999, which MarshalJSON refuses, do not occur here (the
// database's now()).
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONString appends s as a JSON string exactly as encoding/json writes it by default:
// quotes, backslashes and control characters escaped, <, > and & as \u003c, \u003e, \u0026,
// U+2028 and U+2029 as \u2028 and \u2029, and invalid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += n
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += n
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
