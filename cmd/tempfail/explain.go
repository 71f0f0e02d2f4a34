package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tempfail/tempfail/internal/explain"
)

const explainUsage = `Usage: tempfail explain [flags] [TEXT ...]
       tempfail explain [flags] --dsn [FILE]

Explains SMTP replies, mail-log lines, DSN fields, Exchange NDR strings and
mail-client error codes: the cause, whether the sending server retries
(temporary) or gave up, who must act, and how to fix it. Offline, instant.

Each TEXT argument is one input (it may contain newlines, e.g. a multi-line
"450-4.2.1 ..." reply). With no TEXT, standard input is read: one input per
line, the lines of one multi-line reply joined, blank lines skipped.
With --dsn, a whole bounce message or message/delivery-status part is read
from FILE (or standard input) and every recipient block is explained.

Examples:
  tempfail explain '450 4.7.1 <bob@example.net>: Recipient address rejected: Greylisted for 5 minutes'
  grep 'status=deferred' /var/log/mail.log | tempfail explain --json
  tempfail explain --dsn bounce.eml
  tempfail explain 0x800CCC79

Unknown input is not an error: it is explained as cause "other" from
whatever codes it has. Exit status: 0, or 2 for a usage error.
Causes, fields and the rule file: docs/explain.md.

Flags:
`

func explainCmd(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print one JSON object per input, one per line")
	dsn := fs.Bool("dsn", false, "read a whole bounce / message/delivery-status part (from FILE or stdin)")
	rulesFile := fs.String("rules", "", "use this rule `file` instead of the built-in rules (to test a new rule)")
	fs.Usage = func() { fmt.Fprint(fs.Output(), explainUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		return 2
	}
	var rs *explain.Rules
	if *rulesFile != "" {
		text, err := os.ReadFile(*rulesFile)
		if err != nil {
			fmt.Fprintf(stderr, "tempfail explain: --rules: %v\n", err)
			return 2
		}
		if rs, err = explain.Load(*rulesFile, text); err != nil {
			fmt.Fprintf(stderr, "tempfail explain: %v\n", err)
			return 2
		}
	}
	ex, err := explain.New(rs)
	if err != nil {
		fmt.Fprintf(stderr, "tempfail explain: built-in rules: %v\n", err)
		return 1
	}
	first := true
	emit := func(r explain.Result) error {
		if *asJSON {
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(stdout, "%s\n", b)
			return err
		}
		if !first {
			fmt.Fprintln(stdout)
		}
		first = false
		return explain.WriteText(stdout, r)
	}
	if *dsn {
		if fs.NArg() > 1 {
			fmt.Fprintln(stderr, "tempfail explain: --dsn takes at most one FILE")
			return 2
		}
		in := stdin
		if fs.NArg() == 1 && fs.Arg(0) != "-" {
			f, err := os.Open(fs.Arg(0))
			if err != nil {
				fmt.Fprintf(stderr, "tempfail explain: %v\n", err)
				return 2
			}
			defer f.Close()
			in = f
		}
		msg, err := io.ReadAll(io.LimitReader(in, 64<<20))
		if err != nil {
			fmt.Fprintf(stderr, "tempfail explain: reading the DSN: %v\n", err)
			return 1
		}
		results := ex.ExplainDSN(string(msg))
		if len(results) == 0 {
			fmt.Fprintln(stderr, "tempfail explain: no delivery-status fields (Final-Recipient, Status, Diagnostic-Code) found")
		}
		for _, r := range results {
			if err := emit(r); err != nil {
				fmt.Fprintf(stderr, "tempfail explain: %v\n", err)
				return 1
			}
		}
		return 0
	}
	if fs.NArg() > 0 {
		for _, a := range fs.Args() {
			if err := emit(ex.Explain(a)); err != nil {
				fmt.Fprintf(stderr, "tempfail explain: %v\n", err)
				return 1
			}
		}
		return 0
	}
	err = explain.SplitLines(stdin, func(in string) error { return emit(ex.Explain(in)) })
	if err != nil {
		fmt.Fprintf(stderr, "tempfail explain: reading standard input: %v\n", err)
		return 1
	}
	return 0
}
