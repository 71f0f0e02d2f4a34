package logfmt

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2026, 11, 27, 11, 8, 40, 123456789, time.UTC)

func records() map[string][]slog.Attr {
	return map[string][]slog.Attr{
		"decision": {
			slog.String("state", "RCPT"), slog.String("queue_id", ""),
			slog.String("client", "192.0.2.1"), slog.String("sender", "a@example.org"),
			slog.String("action", "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds"),
			slog.Duration("took", 1234567*time.Nanosecond), slog.Bool("dry_run", true),
		},
		"numbers": {slog.Int("n", -12), slog.Uint64("u", 1<<63), slog.Float64("f", 0.25), slog.Float64("g", 1e21)},
		"quoting": {
			slog.String("eq", "a=b"), slog.String("quote", `say "hi"`), slog.String("nl", "a\nb"),
			slog.String("tab", "a\tb"), slog.String("bs", `a\b`), slog.String("ctl", "a\x01b\x7f"),
			slog.String("utf8", "Grüße"), slog.String("bad", "a\xffb"), slog.String("nbsp", "a\u00a0b"),
			slog.String("ls", "a\u2028b"), slog.String("html", "<a&b>"), slog.String("weird key=", "v"),
		},
		"time":  {slog.Time("at", at.Add(time.Hour))},
		"error": {slog.Any("error", errors.New("store: closed"))},
	}
}

func TestMatchesStandardHandler(t *testing.T) {
	for name, attrs := range records() {
		for _, format := range []Format{Text, JSON} {
			var fast, std bytes.Buffer
			r := slog.NewRecord(at, slog.LevelInfo, "decision made", 0)
			r.AddAttrs(attrs...)
			if err := New(&fast, format, nil).Handle(context.Background(), r.Clone()); err != nil {
				t.Fatal(err)
			}
			var h slog.Handler = slog.NewTextHandler(&std, nil)
			if format == JSON {
				h = slog.NewJSONHandler(&std, nil)
			}
			if err := h.Handle(context.Background(), r.Clone()); err != nil {
				t.Fatal(err)
			}
			same(t, name, format, fast.String(), std.String())
		}
	}
}

// HandleAttrs writes what Handle writes for the same record, on the fast
// path and on the slow one (a group attribute, a handler with a group).
func TestHandleAttrsMatchesHandle(t *testing.T) {
	cases := records()
	cases["group"] = []slog.Attr{slog.String("a", "b"), slog.Group("g", slog.Int("n", 1))}
	for name, attrs := range cases {
		for _, format := range []Format{Text, JSON} {
			var viaAttrs, viaRecord bytes.Buffer
			h := New(&viaAttrs, format, nil).WithAttrs([]slog.Attr{slog.String("pid", "7")}).(*Handler)
			if err := h.HandleAttrs(context.Background(), at, slog.LevelWarn, "decision made", attrs); err != nil {
				t.Fatal(err)
			}
			r := slog.NewRecord(at, slog.LevelWarn, "decision made", 0)
			r.AddAttrs(attrs...)
			if err := New(&viaRecord, format, nil).WithAttrs([]slog.Attr{slog.String("pid", "7")}).Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
			if viaAttrs.String() != viaRecord.String() {
				t.Errorf("%s/%v:\nHandleAttrs %q\nHandle      %q", name, format, viaAttrs.String(), viaRecord.String())
			}
		}
	}
}

// same compares two lines: text byte for byte, JSON as decoded values (the
// standard handler escapes a few characters differently, validly).
func same(t *testing.T, name string, format Format, fast, std string) {
	t.Helper()
	if format == Text {
		if fast != std {
			t.Errorf("%s text:\n fast %q\n  std %q", name, fast, std)
		}
		return
	}
	if !strings.HasSuffix(fast, "}\n") || strings.Count(fast, "\n") != 1 {
		t.Errorf("%s json: not one line: %q", name, fast)
	}
	var a, b map[string]any
	if err := json.Unmarshal([]byte(fast), &a); err != nil {
		t.Fatalf("%s json: fast output invalid: %v\n%s", name, err, fast)
	}
	if err := json.Unmarshal([]byte(std), &b); err != nil {
		t.Fatalf("%s json: std output invalid: %v", name, err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("%s json:\n fast %s std %s", name, fast, std)
	}
}

func TestSlowPathAndWithAttrs(t *testing.T) {
	for _, format := range []Format{Text, JSON} {
		var fast, std bytes.Buffer
		mk := func(h slog.Handler) *slog.Logger {
			return slog.New(h).With("component", "store", "n", 3).WithGroup("g").With("x", 1)
		}
		var sh slog.Handler = slog.NewTextHandler(&std, nil)
		if format == JSON {
			sh = slog.NewJSONHandler(&std, nil)
		}
		for _, l := range []*slog.Logger{mk(New(&fast, format, nil)), mk(sh)} {
			l.Info("hello", "map", map[string]int{"a": 1}, slog.Group("grp", "k", "v"), "nan", math.NaN())
		}
		strip := func(s string) string { // drop the time field, which differs
			if format == JSON {
				var m map[string]any
				if err := json.Unmarshal([]byte(s), &m); err != nil {
					t.Fatalf("invalid JSON %q: %v", s, err)
				}
				delete(m, "time")
				out, _ := json.Marshal(m)
				return string(out)
			}
			return s[strings.Index(s, " ")+1:]
		}
		if f, s := strip(fast.String()), strip(std.String()); f != s {
			t.Errorf("format %d:\n fast %s\n  std %s", format, f, s)
		}
	}
	// Plain WithAttrs stays on the fast path and keeps its attributes.
	var buf bytes.Buffer
	l := slog.New(New(&buf, Text, nil)).With("check", "greylist")
	l.Info("x", "reason", "new triplet")
	if got := buf.String(); !strings.HasSuffix(got, ` msg=x check=greylist reason="new triplet"`+"\n") {
		t.Errorf("got %q", got)
	}
}

func TestLevel(t *testing.T) {
	var lv slog.LevelVar
	lv.Set(slog.LevelWarn)
	var buf bytes.Buffer
	l := slog.New(New(&buf, Text, &lv))
	l.Info("hidden")
	l.Warn("shown")
	lv.Set(slog.LevelDebug)
	l.Debug("shown too")
	if got := strings.Count(buf.String(), "\n"); got != 2 {
		t.Errorf("lines = %d, want 2:\n%s", got, buf.String())
	}
}

func FuzzMatchesStandardHandler(f *testing.F) {
	for _, s := range []string{"", "a b", "a=b", "x\xff", "\u2028", `"q"`, "ünï", "\x00"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, key, val string) {
		if key == "" {
			return
		}
		for _, format := range []Format{Text, JSON} {
			var fast, std bytes.Buffer
			r := slog.NewRecord(at, slog.LevelWarn, val, 0)
			r.AddAttrs(slog.String(key, val))
			New(&fast, format, nil).Handle(context.Background(), r.Clone())
			var h slog.Handler = slog.NewTextHandler(&std, nil)
			if format == JSON {
				h = slog.NewJSONHandler(&std, nil)
			}
			h.Handle(context.Background(), r.Clone())
			same(t, "fuzz", format, fast.String(), std.String())
		}
	})
}

func BenchmarkDecisionLine(b *testing.B) {
	attrs := records()["decision"]
	for _, bc := range []struct {
		name string
		h    slog.Handler
	}{
		{"fast-text", New(discard{}, Text, nil)},
		{"std-text", slog.NewTextHandler(discard{}, nil)},
		{"fast-json", New(discard{}, JSON, nil)},
		{"std-json", slog.NewJSONHandler(discard{}, nil)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r := slog.NewRecord(at, slog.LevelInfo, "decision", 0)
				r.AddAttrs(attrs...)
				bc.h.Handle(context.Background(), r)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestAppendTime(t *testing.T) {
	east := time.FixedZone("X", 5*3600+30*60)
	for _, tm := range []time.Time{
		at, at.Truncate(time.Second), at.Truncate(time.Millisecond), at.Add(-120 * time.Millisecond),
		at.In(east), time.Date(2026, 1, 2, 3, 4, 5, 100, time.UTC), at.Add(time.Second), at,
	} {
		if got, want := string(appendTime(nil, tm, true)), tm.Format(time.RFC3339Nano); got != want {
			t.Errorf("nanos: got %s, want %s", got, want)
		}
		if got, want := string(appendTime(nil, tm, false)), tm.Format("2006-01-02T15:04:05.000Z07:00"); got != want {
			t.Errorf("millis: got %s, want %s", got, want)
		}
	}
}
