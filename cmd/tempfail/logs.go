package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/tempfail/tempfail/internal/duration"
	"github.com/tempfail/tempfail/internal/explain"
	"github.com/tempfail/tempfail/internal/maillog"
	"github.com/tempfail/tempfail/internal/trace"
)

// This file holds what `tempfail trace` and `tempfail report` share:
// opening the inputs, the message filters, and the summary of lines that
// were not understood.

// logInput is the inputs of a trace/report run.
type logInput struct {
	files  []string
	follow string
	stdin  io.Reader
}

// sources returns the maillog sources in reading order and a stop
// function. With --follow the context ends on SIGINT/SIGTERM.
func (in logInput) sources() ([]maillog.Source, func()) {
	if in.follow != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		srcs := maillog.Files(in.files...)
		srcs = append(srcs, maillog.FollowSource(ctx, in.follow, maillog.FollowOptions{FromStart: true}))
		return srcs, stop
	}
	if len(in.files) == 0 || len(in.files) == 1 && in.files[0] == "-" {
		return []maillog.Source{maillog.ReaderSource("stdin", in.stdin)}, func() {}
	}
	return maillog.Files(in.files...), func() {}
}

// parseWhen reads --since/--until: RFC 3339 ("2026-11-27T10:00:00Z"),
// "2026-11-27 10:00[:05]" in local time, a date, or a duration back from
// now ("2h", "90m", "2d").
func parseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, l := range []string{time.RFC3339Nano, time.RFC3339} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	for _, l := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(l, s, time.Local); err == nil {
			return t, nil
		}
	}
	if d, err := duration.Parse(strings.TrimPrefix(s, "-")); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither a time (RFC 3339, \"2006-01-02 15:04\") nor a duration back from now (\"2h\", \"3d\")", s)
}

// filter selects messages. Empty fields match everything.
type filter struct {
	ids, messageIDs, froms, tos, hosts []string
	outcomes                           []string
	since, until                       time.Time
}

// multi is a repeatable string flag; commas also separate values.
type multi []string

func (m *multi) String() string { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error {
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			*m = append(*m, v)
		}
	}
	return nil
}

var validOutcomes = []string{"delivered", "deferred", "bounced", "expired", "rejected", "held", "deleted", "discarded"}

func (f *filter) check() error {
	for _, o := range f.outcomes {
		ok := false
		for _, v := range validOutcomes {
			ok = ok || o == v
		}
		if !ok {
			return fmt.Errorf("--outcome %q: one of %s", o, strings.Join(validOutcomes, ", "))
		}
	}
	if !f.since.IsZero() && !f.until.IsZero() && f.until.Before(f.since) {
		return fmt.Errorf("--until is before --since")
	}
	return nil
}

func (f *filter) empty() bool {
	return len(f.ids)+len(f.messageIDs)+len(f.froms)+len(f.tos)+len(f.hosts)+len(f.outcomes) == 0 && f.since.IsZero() && f.until.IsZero()
}

// addrMatch: an address pattern matches the whole address, or its domain
// when the pattern is "@domain" or "domain", case-insensitively.
func addrMatch(pat, addr string) bool {
	pat, addr = strings.ToLower(strings.Trim(pat, "<>")), strings.ToLower(addr)
	if pat == addr {
		return true
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return false
	}
	dom := addr[at+1:]
	return strings.TrimPrefix(pat, "@") == dom
}

func anyOf(pats []string, ok func(string) bool) bool {
	if len(pats) == 0 {
		return true
	}
	for _, p := range pats {
		if ok(p) {
			return true
		}
	}
	return false
}

// match reports whether m passes every filter given.
func (f *filter) match(m *trace.Message) bool {
	if !f.since.IsZero() && m.LastSeen.Before(f.since) {
		return false
	}
	if !f.until.IsZero() && m.FirstSeen.After(f.until) {
		return false
	}
	if !anyOf(f.ids, func(p string) bool {
		if strings.EqualFold(p, m.QueueID) || strings.EqualFold(p, m.BounceQueueID) || strings.EqualFold(p, m.BounceOf) {
			return true
		}
		for _, id := range m.QueueIDs {
			if strings.EqualFold(p, id) {
				return true
			}
		}
		return false
	}) {
		return false
	}
	if !anyOf(f.messageIDs, func(p string) bool { return strings.Trim(p, "<>") == strings.Trim(m.MessageID, "<>") }) {
		return false
	}
	if !anyOf(f.froms, func(p string) bool {
		if p == "<>" || p == "" {
			return m.From == ""
		}
		return addrMatch(p, m.From)
	}) {
		return false
	}
	if !anyOf(f.tos, func(p string) bool {
		for _, r := range m.Recipients {
			if addrMatch(p, r.Address) || r.OrigTo != "" && addrMatch(p, r.OrigTo) {
				return true
			}
		}
		return false
	}) {
		return false
	}
	if !anyOf(f.outcomes, func(p string) bool {
		if string(m.Outcome) == p {
			return true
		}
		for _, r := range m.Recipients {
			if string(r.Outcome) == p {
				return true
			}
		}
		return false
	}) {
		return false
	}
	if !anyOf(f.hosts, func(p string) bool {
		p = strings.ToLower(p)
		if strings.EqualFold(m.Host, p) || strings.Contains(strings.ToLower(m.Client), p) {
			return true
		}
		for _, r := range m.Recipients {
			for _, a := range r.Attempts {
				if strings.Contains(strings.ToLower(a.Relay), p) {
					return true
				}
			}
		}
		return false
	}) {
		return false
	}
	return true
}

// tuneGC trades memory for speed when GOGC is not set: a log run's live
// heap is small (bounded by the open messages) and churns through one
// string per line, so collecting at 200% growth instead of 100% saves
// collector work at the cost of a few more MB.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(200)
	}
}

// newExplainer loads explain's built-in rules for the classifier.
func newExplainer(cmd string, stderr io.Writer) (*explain.Explainer, bool) {
	ex, err := explain.New(nil)
	if err != nil {
		fmt.Fprintf(stderr, "tempfail %s: explain's built-in rules: %v\n", cmd, err)
		return nil, false
	}
	return ex, true
}

// reportSkipped prints the unparsed-line summary and read errors on
// stderr. It returns false when an input could not be read.
func reportSkipped(cmd string, stderr io.Writer, r *maillog.Reader) bool {
	st := r.Stats()
	if st.Unparsed > 0 {
		fmt.Fprintf(stderr, "tempfail %s: %d of %d lines not understood (skipped)", cmd, st.Unparsed, st.Lines)
		if st.Overlong > 0 {
			fmt.Fprintf(stderr, ", %d of them longer than %d bytes", st.Overlong, maillog.DefaultMaxLine)
		}
		fmt.Fprintln(stderr, "; the first:")
		for i, s := range st.Samples {
			if i == 5 {
				break
			}
			fmt.Fprintf(stderr, "  %s:%d: %s\n", s.File, s.Line, s.Text)
		}
	}
	if err := r.Err(); err != nil {
		fmt.Fprintf(stderr, "tempfail %s: %v", cmd, err)
		if st.OpenErrors > 1 {
			fmt.Fprintf(stderr, " (and %d more input errors)", st.OpenErrors-1)
		}
		fmt.Fprintln(stderr)
		return false
	}
	return true
}
