package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tempfail/tempfail/internal/maillog"
	"github.com/tempfail/tempfail/internal/report"
	"github.com/tempfail/tempfail/internal/trace"
)

const traceUsage = `Usage: tempfail trace [flags] [FILE ...]

Follows every message through Postfix and Exim logs, attempt by attempt:
accepted (client, message-id, sender, size), each delivery attempt per
recipient (time, relay, DSN, status, the remote reply, and its cause and
whether it is temporary, classified as "tempfail explain" does), the final
outcome (delivered, deferred = still queued, bounced, expired, rejected,
held), and the bounce notification. Content-filter re-injection ("queued as")
joins the two queue ids into one message.

FILEs may be plain or .gz, and rotated sets are read oldest first
(mail.log.2.gz mail.log.1 mail.log). With no FILE, standard input is read.
--follow FILE reads FILE from its start and keeps following it as it grows
(and across rotation) until interrupted; a message is printed when it is
complete.

Lines that are not understood are counted and skipped, never fatal: a
summary with the first few (file:line) goes to standard error.

Examples:
  tempfail trace /var/log/mail.log
  tempfail trace --to bob@example.org --since 2h /var/log/mail.log*
  tempfail trace --outcome bounced,expired --json /var/log/mail.log.1 /var/log/mail.log
  tempfail trace --id 4F1A2B3C4D /var/log/mail.log
  tempfail trace --host gmail-smtp-in.l.google.com --outcome deferred /var/log/mail.log
  zcat /var/log/mail.log.*.gz | tempfail trace --from @example.com
  tempfail trace --follow /var/log/mail.log --outcome deferred

Filters (repeatable, or comma-separated; a message matches when it matches
one value of every filter given): an address matches exactly, "@domain" or
"domain" matches the whole domain; --from '<>' selects bounce notifications.
--outcome matches the message's outcome or any recipient's. --host matches
the log host, the client, or any relay (substring). --since/--until take
RFC 3339, "2006-01-02 15:04" (local time), or a duration back from now
("2h", "3d"); a message matches when it was seen in that window.

Output: one block per message; --json prints one JSON object per message
with queue_id, message_id, from, recipients (address, outcome, attempts:
time, relay, dsn, status, reply, cause, temporary), first_seen, last_seen,
outcome. Fields: docs/trace.md.

Exit status: 0; 1 when an input could not be read; 2 for a usage error.

Flags:
`

func traceCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	defer startProfile()() // TEMPFAIL_CPUPROFILE etc., as for serve
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f filter
	fs.Var((*multi)(&f.ids), "id", "queue `id` (Postfix queue id or Exim message id; any of a linked message's ids)")
	fs.Var((*multi)(&f.messageIDs), "message-id", "Message-ID header `value` (with or without <>)")
	fs.Var((*multi)(&f.froms), "from", "envelope sender `address` or @domain ('<>' for bounces)")
	fs.Var((*multi)(&f.tos), "to", "recipient `address` or @domain")
	fs.Var((*multi)(&f.outcomes), "outcome", "`outcome`: delivered, deferred, bounced, expired, rejected, held, deleted, discarded")
	fs.Var((*multi)(&f.hosts), "host", "log host, client or relay `name` (substring)")
	since := fs.String("since", "", "only messages seen at or after `time` (RFC 3339, \"2006-01-02 15:04\", or \"2h\" back)")
	until := fs.String("until", "", "only messages seen at or before `time`")
	asJSON := fs.Bool("json", false, "one JSON object per message, one per line")
	follow := fs.String("follow", "", "read `FILE` and keep following it as it grows")
	fs.Usage = func() { fmt.Fprint(fs.Output(), traceUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		return 2
	}
	now := time.Now()
	var err error
	if f.since, err = parseWhen(*since, now); err != nil {
		fmt.Fprintf(stderr, "tempfail trace: --since: %v\n", err)
		return 2
	}
	if f.until, err = parseWhen(*until, now); err != nil {
		fmt.Fprintf(stderr, "tempfail trace: --until: %v\n", err)
		return 2
	}
	if err := f.check(); err != nil {
		fmt.Fprintf(stderr, "tempfail trace: %v\n", err)
		return 2
	}
	tuneGC()
	ex, ok := newExplainer("trace", stderr)
	if !ok {
		return 1
	}
	srcs, stop := logInput{files: fs.Args(), follow: *follow, stdin: stdin}.sources()
	defer stop()

	bw := bufio.NewWriterSize(stdout, 256<<10)
	defer bw.Flush()
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var werr error
	first := true
	emit := func(m *trace.Message) {
		if werr != nil || !f.match(m) {
			return
		}
		if *asJSON {
			werr = enc.Encode(m)
		} else {
			if !first {
				bw.WriteByte('\n')
			}
			first = false
			werr = writeTimeline(bw, m)
		}
		if *follow != "" && werr == nil {
			werr = bw.Flush()
		}
	}
	var finishEncoding func()
	if *asJSON && *follow == "" {
		// Encoding JSON costs about as much as correlating: hand finished
		// messages (the Correlator never touches one after emitting it) to
		// a goroutine that encodes them in order, so the two use two CPUs.
		ch := make(chan *trace.Message, 1024)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for m := range ch {
				if werr == nil {
					werr = enc.Encode(m)
				}
			}
		}()
		emit = func(m *trace.Message) {
			if f.match(m) {
				ch <- m
			}
		}
		finishEncoding = func() { close(ch); <-done }
	}
	r := maillog.NewReader(nil, srcs...)
	c := trace.New(trace.Options{Classifier: trace.ExplainClassifier(ex), Emit: emit})
	if *follow != "" {
		// one goroutine: a message must print as soon as its line arrives
		for ev, ok := r.Next(); ok; ev, ok = r.Next() {
			c.Add(ev)
		}
	} else {
		maillog.Pump(r, c.Add)
	}
	c.Flush()
	if finishEncoding != nil {
		finishEncoding()
	}
	if err := bw.Flush(); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		fmt.Fprintf(stderr, "tempfail trace: writing: %v\n", werr)
		return 1
	}
	if !reportSkipped("trace", stderr, r) {
		return 1
	}
	return 0
}

// writeTimeline prints one message as a readable block:
//
//	4F1A2B3C4D  message-id=<...>  from=<alice@example.com>  client=...  size=2048
//	  first seen 2026-11-27 11:00:01, last seen 11:05:02 (5m01s)  host out
//	  to <user@recipient.com>: delivered after 2 attempts
//	    11:00:02  deferred  4.2.0  mx.recipient.com[192.0.2.25]:25  greylisting, temporary
//	              450 4.2.0 <user@recipient.com>: Recipient address rejected: Greylisting in progress...
//	              why: The receiving server greylists: ...
//	    11:05:02  sent      2.0.0  mx.recipient.com[192.0.2.25]:25  delay 301s, TLS Trusted
//	  outcome: delivered
func writeTimeline(w *bufio.Writer, m *trace.Message) error {
	id := m.QueueID
	if len(m.QueueIDs) > 1 {
		id = strings.Join(m.QueueIDs, " + ")
	}
	if id == "" {
		id = "NOQUEUE"
	}
	fmt.Fprintf(w, "%s", id)
	if m.MessageID != "" {
		fmt.Fprintf(w, "  message-id=<%s>", strings.Trim(m.MessageID, "<>"))
	}
	fmt.Fprintf(w, "  from=<%s>", m.From)
	if m.Client != "" {
		fmt.Fprintf(w, "  client=%s", m.Client)
	}
	if m.SASLUsername != "" {
		fmt.Fprintf(w, "  sasl=%s", m.SASLUsername)
	}
	if m.Size > 0 {
		fmt.Fprintf(w, "  size=%d", m.Size)
	}
	w.WriteByte('\n')
	fmt.Fprintf(w, "  seen %s", ts(m.FirstSeen, time.Time{}))
	if !m.LastSeen.Equal(m.FirstSeen) {
		fmt.Fprintf(w, " to %s (%s)", ts(m.LastSeen, m.FirstSeen), report.Dur(m.LastSeen.Sub(m.FirstSeen).Seconds()))
	}
	if m.Host != "" {
		fmt.Fprintf(w, "  host %s", m.Host)
	}
	if m.MTA != "" {
		fmt.Fprintf(w, "  (%s)", m.MTA)
	}
	w.WriteByte('\n')
	if m.RejectAction != "" {
		fmt.Fprintf(w, "  %s at %s\n", m.RejectAction, strings.ToLower(m.RejectStage))
	}
	for _, r := range m.Recipients {
		fmt.Fprintf(w, "  to <%s>", r.Address)
		if r.OrigTo != "" && r.OrigTo != r.Address {
			fmt.Fprintf(w, " (orig_to <%s>)", r.OrigTo)
		}
		n := len(r.Attempts)
		fmt.Fprintf(w, ": %s", r.Outcome)
		switch {
		case n > 1:
			fmt.Fprintf(w, " after %d attempts", n)
		case n == 0:
			w.WriteString(" (no attempt in the log)")
		}
		w.WriteByte('\n')
		for _, a := range r.Attempts {
			fmt.Fprintf(w, "    %s  %-8s", ts(a.Time, m.FirstSeen), a.Status)
			if a.DSN != "" {
				fmt.Fprintf(w, "  %s", a.DSN)
			}
			if a.Relay != "" {
				fmt.Fprintf(w, "  %s", a.Relay)
			}
			var notes []string
			if a.Cause != "" {
				t := "final"
				if a.Temporary {
					t = "temporary"
				}
				notes = append(notes, a.Cause+", "+t)
			}
			if a.Delay > 0 {
				notes = append(notes, "delay "+report.Dur(a.Delay))
			}
			if a.TLS != "" {
				notes = append(notes, "TLS "+a.TLS)
			}
			if len(a.QueueID) > 0 && a.QueueID != m.QueueID {
				notes = append(notes, "as "+a.QueueID)
			}
			if len(notes) > 0 {
				fmt.Fprintf(w, "  [%s]", strings.Join(notes, "; "))
			}
			w.WriteByte('\n')
			if a.Reply != "" {
				fmt.Fprintf(w, "              %s\n", a.Reply)
			}
			if a.Why != "" && a.Status != "sent" {
				fmt.Fprintf(w, "              why: %s\n", a.Why)
			}
		}
	}
	if m.BounceQueueID != "" {
		fmt.Fprintf(w, "  bounce notification: %s\n", m.BounceQueueID)
	}
	if m.BounceOf != "" {
		fmt.Fprintf(w, "  notification about: %s\n", m.BounceOf)
	}
	fmt.Fprintf(w, "  outcome: %s", m.Outcome)
	switch {
	case m.Evicted:
		w.WriteString(" (incomplete: evicted, too many open messages)")
	case m.Incomplete && (m.Outcome == trace.OutcomeDeferred || m.Outcome == trace.OutcomeHeld):
		w.WriteString(" (still in the queue at the end of the log)")
	case m.Incomplete:
		w.WriteString(" (incomplete in this log)")
	}
	_, err := w.WriteString("\n")
	return err
}

// ts prints a time, without the date when it is the same day as ref.
func ts(t, ref time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if !ref.IsZero() && t.Year() == ref.Year() && t.YearDay() == ref.YearDay() {
		return t.Format("15:04:05")
	}
	return t.Format("2006-01-02 15:04:05")
}
