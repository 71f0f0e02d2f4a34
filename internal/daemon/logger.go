package daemon

import (
	"io"
	"log/slog"

	"github.com/tempfail/tempfail/internal/logfmt"
)

// NewLogger returns the process logger; level can be changed on reload.
func NewLogger(w io.Writer, format string, level *slog.LevelVar) *slog.Logger {
	f := logfmt.Text
	if format == "json" {
		f = logfmt.JSON
	}
	return slog.New(logfmt.New(w, f, level))
}

// ParseLevel maps the config's level names.
func ParseLevel(s string) slog.Level {
	switch s {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}
