package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tempfail/tempfail/internal/duration"
	"github.com/tempfail/tempfail/internal/maillog"
	"github.com/tempfail/tempfail/internal/report"
	"github.com/tempfail/tempfail/internal/trace"
)

const reportUsage = `Usage: tempfail report [flags] [FILE ...]

Summarises Postfix and Exim logs, following each message as "tempfail trace"
does and classifying every deferral with "tempfail explain"'s rules:

  - totals: received, delivered, deferred, bounced, expired, rejected
  - deferrals by cause, by destination domain and by relay: count, messages
    affected, worst delay
  - messages in the queue longer than --stuck
  - deferrals that ended in a permanent failure (bounced or expired)
  - greylisting from both sides: our mail greylisted by others (how long it
    took to get through), clients greylisted by us (pass rate and delay)
  - rate-limit and throttling hits per destination
  - SMTP AUTH problems: relay access denied, SASL authentication failures

FILEs may be plain or .gz; rotated sets are read oldest first. With no
FILE, standard input is read. Memory is bounded by the messages open at
once, not by the size of the log.

Examples:
  tempfail report /var/log/mail.log.1 /var/log/mail.log
  tempfail report --format html --out report.html /var/log/mail.log*
  tempfail report --format json --since 24h /var/log/mail.log | jq .deferrals_by_cause
  tempfail report --stuck 30m --top 100 /var/log/mail.log

Exit status: 0; 1 when an input could not be read or the output written;
2 for a usage error. Fields and an example: docs/trace.md.

Flags:
`

func reportCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	defer startProfile()() // TEMPFAIL_CPUPROFILE etc., as for serve
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output `format`: text, json or html")
	out := fs.String("out", "", "write to `file` instead of standard output")
	stuck := fs.String("stuck", "1h", "list messages in the queue longer than `duration`")
	top := fs.Int("top", 50, "rows per table and list (counts are always exact)")
	title := fs.String("title", "", "title of the HTML report")
	since := fs.String("since", "", "only messages seen at or after `time` (RFC 3339, \"2006-01-02 15:04\", or \"24h\" back)")
	until := fs.String("until", "", "only messages seen at or before `time`")
	fs.Usage = func() { fmt.Fprint(fs.Output(), reportUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		return 2
	}
	switch *format {
	case "text", "json", "html":
	default:
		fmt.Fprintf(stderr, "tempfail report: --format %q: text, json or html\n", *format)
		return 2
	}
	st, err := duration.Parse(*stuck)
	if err != nil || st <= 0 {
		fmt.Fprintf(stderr, "tempfail report: --stuck %q: a duration such as 30m, 1h, 2d\n", *stuck)
		return 2
	}
	if *top < 1 {
		fmt.Fprintln(stderr, "tempfail report: --top must be at least 1")
		return 2
	}
	var f filter
	now := time.Now()
	if f.since, err = parseWhen(*since, now); err != nil {
		fmt.Fprintf(stderr, "tempfail report: --since: %v\n", err)
		return 2
	}
	if f.until, err = parseWhen(*until, now); err != nil {
		fmt.Fprintf(stderr, "tempfail report: --until: %v\n", err)
		return 2
	}
	tuneGC()
	ex, ok := newExplainer("report", stderr)
	if !ok {
		return 1
	}
	srcs, stop := logInput{files: fs.Args(), stdin: stdin}.sources()
	defer stop()
	r := maillog.NewReader(nil, srcs...)
	var keep func(*trace.Message) bool
	if !f.empty() {
		keep = f.match
	}
	rep := report.Build(r, ex, report.Options{Stuck: st, Limit: *top}, keep)
	rep.Input.Files = fs.Args()
	inputOK := reportSkipped("report", stderr, r)

	w := stdout
	var file *os.File
	if *out != "" && *out != "-" {
		if file, err = os.Create(*out); err != nil {
			fmt.Fprintf(stderr, "tempfail report: %v\n", err)
			return 1
		}
		w = file
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	switch *format {
	case "text":
		err = report.WriteText(bw, rep)
	case "json":
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	case "html":
		err = report.WriteHTML(bw, rep, *title)
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "tempfail report: writing: %v\n", err)
		return 1
	}
	if !inputOK {
		return 1
	}
	return 0
}
