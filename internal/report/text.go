package report

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
	"time"
)

// Dur formats seconds for people: "0.4s", "12s", "5m01s", "3h05m", "2d04h".
func Dur(s float64) string {
	switch {
	case s <= 0:
		return "0s"
	case s < 0.995:
		return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.2f", s), "0"), ".") + "s"
	case s < 10:
		return strings.TrimSuffix(strings.TrimSuffix(fmt.Sprintf("%.1f", s), "0"), ".") + "s"
	case s < 60:
		return fmt.Sprintf("%.0fs", s)
	}
	n := int64(math.Round(s))
	switch {
	case n < 3600:
		return fmt.Sprintf("%dm%02ds", n/60, n%60)
	case n < 86400:
		return fmt.Sprintf("%dh%02dm", n/3600, n%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", n/86400, n%86400/3600)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format("2006-01-02 15:04:05")
}

// WriteText writes the report for a terminal.
func WriteText(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	p := func(format string, args ...any) { fmt.Fprintf(ew, format, args...) }
	t := r.Totals
	p("tempfail report: %s to %s\n", stamp(r.From), stamp(r.To))
	if in := r.Input; in != nil {
		p("  read %d lines (%.1f MB), %d messages; %d lines not understood\n", in.Lines, float64(in.Bytes)/1e6, in.Messages, in.Unparsed)
	}
	p("\nTotals\n")
	line := func(n int64, what, note string) { p("  %8d  %-13s %s\n", n, what, note) }
	line(t.Received, "received", fmt.Sprintf("messages queued (+%d bounce notifications)", t.Notifications))
	line(t.Delivered, "delivered", "recipients")
	line(t.Deferred, "deferred", fmt.Sprintf("recipients deferred at least once (%d messages, %d deferrals)", t.DeferredMessages, t.DeferralAttempts))
	line(t.Bounced, "bounced", "recipients")
	line(t.Expired, "expired", "recipients returned to sender after the queue lifetime")
	line(t.Rejected, "rejected", "before queueing, or by cleanup/milter")
	line(t.StillQueued, "still queued", fmt.Sprintf("deferred at the end of the log (%d held)", t.Held))
	if t.Deleted > 0 {
		line(t.Deleted, "deleted", "by the admin")
	}

	rows := func(title, keyName string, rs []Row, countName string, delay bool) {
		p("\n%s\n", title)
		if len(rs) == 0 {
			p("  (none)\n")
			return
		}
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		// delay: rows of message attempts (messages and worst delay);
		// otherwise events that belong to no message (NOQUEUE rejects,
		// failed AUTH): when, not how many messages.
		if delay {
			fmt.Fprintf(tw, "  %s\t%s\tmessages\tworst delay\texample\n", keyName, countName)
		} else {
			fmt.Fprintf(tw, "  %s\t%s\tlast seen\texample\n", keyName, countName)
		}
		for _, x := range rs {
			if delay {
				fmt.Fprintf(tw, "  %s\t%d\t%d\t%s\t%s\n", x.Key, x.Count, x.Messages, Dur(x.WorstDelay), x.Example)
			} else {
				fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\n", x.Key, x.Count, stamp(x.Last), x.Example)
			}
		}
		tw.Flush()
	}
	rows("Deferrals by cause", "cause", r.DeferralsByCause, "deferrals", true)
	rows("Deferrals by destination domain", "domain", r.DeferralsByDomain, "deferrals", true)
	rows("Deferrals by relay", "relay", r.DeferralsByRelay, "deferrals", true)

	p("\nMessages in the queue longer than %s: %d\n", Dur(r.Stuck.Threshold), r.Stuck.Count)
	if len(r.Stuck.Messages) > 0 {
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  queue id\tin queue\toutcome\tfrom\trecipients\tlast reply\n")
		for _, m := range r.Stuck.Messages {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t<%s>\t%s\t%s\n", m.QueueID, Dur(m.InQueue), m.Outcome, m.From, strings.Join(m.Recipients, ","), clip(m.LastReply, 100))
		}
		tw.Flush()
	}

	p("\nDeferrals that ended in a permanent failure: %d\n", r.Permanent.Count)
	for _, f := range r.Permanent.Failures {
		p("  %s <%s> -> <%s>: %d deferral(s) from %s (%s), then %s %s at %s after %s: %s\n",
			f.QueueID, f.From, f.Recipient, f.Deferrals, stamp(f.FirstDeferral), f.FirstCause, f.Outcome, f.DSN, stamp(f.FailedAt), Dur(f.InQueue), f.Cause)
		if f.Reply != "" {
			p("      reply: %s\n", clip(f.Reply, 200))
		}
		if f.Why != "" {
			p("      why:   %s\n", f.Why)
		}
	}

	g := r.Greylisting.Outgoing
	p("\nGreylisting of our mail by other servers\n")
	if g.Recipients == 0 {
		p("  (none)\n")
	} else {
		p("  %d recipients greylisted: %d got through (delay median %s, p90 %s, max %s), %d still waiting, %d failed\n",
			g.Recipients, g.GotThrough, Dur(g.Delay.Median), Dur(g.Delay.P90), Dur(g.Delay.Max), g.StillWaiting, g.Failed)
		tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "  domain\tgreylisted\tworst time to get through\n")
		for _, x := range g.ByDomain {
			fmt.Fprintf(tw, "  %s\t%d\t%s\n", x.Key, x.Count, Dur(x.WorstDelay))
		}
		tw.Flush()
	}
	in := r.Greylisting.Incoming
	p("\nGreylisting by this server\n")
	if in.Rejects == 0 {
		p("  (none)\n")
	} else {
		p("  %d greylisting rejects for %d triplets; %d passed later (pass rate %.0f%%, delay median %s, max %s); %d still pending, %d never retried\n",
			in.Rejects, in.Triplets, in.Passed, 100*in.PassRate, Dur(in.Delay.Median), Dur(in.Delay.Max), in.Pending, in.NeverRetried)
	}
	rows("Rate limits and throttling by destination", "domain", r.RateLimits.ByDestination, "hits", true)
	if len(r.RateLimits.ByClient) > 0 {
		rows("Clients rate-limited by this server", "client", r.RateLimits.ByClient, "rejects", false)
	}
	rows("Relay access denied (sending without SMTP AUTH)", "client", r.Auth.RelayDenied, "rejects", false)
	rows("SASL authentication failures", "client", r.Auth.SASLFailures, "failures", false)
	return ew.err
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return len(p), nil
	}
	_, e.err = e.w.Write(p)
	return len(p), nil
}
