// Package logfmt is the slog.Handler behind tempfail's logs. It writes the
// same lines as log/slog's TextHandler (key=value) and JSONHandler, but
// encodes the common attribute kinds (strings, numbers, booleans,
// durations, times, errors) directly into one buffer: at tens of thousands
// of policy decisions per second, the generic handler's per-attribute work
// cost more than the greylisting decision it logged (docs/performance.md).
// Anything unusual (groups, LogValuers, arbitrary values) is passed to the
// standard handler, so output is always complete and well-formed.
package logfmt

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Format is the output format.
type Format int

const (
	Text Format = iota // key=value, as slog.TextHandler
	JSON               // one JSON object per line, as slog.JSONHandler
)

// Handler is a slog.Handler; see the package comment.
type Handler struct {
	out    *lockedWriter
	format Format
	level  slog.Leveler
	attrs  []slog.Attr // from WithAttrs, for the slow path
	pre    []byte      // attrs, encoded; nil when one of them needs the slow path
	slowOK bool        // pre could not be encoded: always take the slow path
}

// lockedWriter serialises the fast and the slow path on one writer, so a
// line is always one Write call and lines never interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// New returns a handler writing to w. level nil means info.
func New(w io.Writer, format Format, level slog.Leveler) *Handler {
	if level == nil {
		level = slog.LevelInfo
	}
	return &Handler{out: &lockedWriter{w: w}, format: format, level: level}
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if h.slowOK {
		return h.slow().Handle(ctx, r)
	}
	bp := bufPool.Get().(*[]byte)
	b := h.begin((*bp)[:0], r)
	b = append(b, h.pre...)
	ok := true
	r.Attrs(func(a slog.Attr) bool {
		b, ok = h.appendAttr(b, a)
		return ok
	})
	if !ok {
		*bp = b
		bufPool.Put(bp)
		return h.slow().Handle(ctx, r)
	}
	b = h.end(b)
	_, err := h.out.Write(b)
	if cap(b) <= 64<<10 {
		*bp = b
		bufPool.Put(bp)
	}
	return err
}

// HandleAttrs writes the line Handle would write for a record of t, level,
// msg and attrs, without the record: a slog.Record keeps five attributes
// inline and allocates for more, and the policy decision line, written on
// every request, has a dozen.
func (h *Handler) HandleAttrs(ctx context.Context, t time.Time, level slog.Level, msg string, attrs []slog.Attr) error {
	head := slog.NewRecord(t, level, msg, 0)
	if h.slowOK {
		head.AddAttrs(attrs...)
		return h.slow().Handle(ctx, head)
	}
	bp := bufPool.Get().(*[]byte)
	b := h.begin((*bp)[:0], head)
	b = append(b, h.pre...)
	ok := true
	for _, a := range attrs {
		if b, ok = h.appendAttr(b, a); !ok {
			break
		}
	}
	if !ok {
		*bp = b
		bufPool.Put(bp)
		head.AddAttrs(attrs...)
		return h.slow().Handle(ctx, head)
	}
	b = h.end(b)
	_, err := h.out.Write(b)
	if cap(b) <= 64<<10 {
		*bp = b
		bufPool.Put(bp)
	}
	return err
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	if len(as) == 0 {
		return h
	}
	n := *h
	n.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	pre := append([]byte(nil), h.pre...)
	for _, a := range as {
		var ok bool
		if pre, ok = h.appendAttr(pre, a); !ok {
			n.slowOK = true
			break
		}
	}
	n.pre = pre
	return &n
}

// WithGroup implements slog.Handler. Groups are rare in tempfail; the
// standard handler does them.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.slow().WithGroup(name)
}

// slow is the standard handler with the same writer, level and attributes.
func (h *Handler) slow() slog.Handler {
	opts := &slog.HandlerOptions{Level: h.level}
	var s slog.Handler
	if h.format == JSON {
		s = slog.NewJSONHandler(h.out, opts)
	} else {
		s = slog.NewTextHandler(h.out, opts)
	}
	return s.WithAttrs(h.attrs)
}
