package main

import (
	"log"
	"strings"

	"github.com/rs/zerolog"

	"github.com/platform-template/template-api/src/internal/redact"
)

// newStdLogger routes net/http's own messages (TLS handshake errors, panics it catches) into the
// JSON log instead of a bare line on stderr.
func newStdLogger(l *zerolog.Logger) *log.Logger {
	return log.New(lineWriter{l}, "", 0)
}

type lineWriter struct{ l *zerolog.Logger }

func (w lineWriter) Write(p []byte) (int, error) {
	w.l.Warn().Str("source", "net/http").Msg(redact.String(strings.TrimSpace(string(p))))
	return len(p), nil
}
