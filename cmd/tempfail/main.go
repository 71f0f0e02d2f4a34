// Command tempfail is a policy server for the receiving MX (serve, query)
// and, as the project grows, a set of tools for the sending side that
// explain SMTP temporary failures (explain, trace, report, probe).
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `tempfail: SMTP temporary failures (450 and friends), from both sides.

Usage:
  tempfail <command> [flags]

Commands (receiving side):
  serve     run the policy server for Postfix (check_policy_service): greylisting
            on an embedded store, sender-domain / reverse-DNS / SPF / DNSBL
            checks, rate limits; listens on 127.0.0.1:10023 with no config at all
  query     ask a running server what it would answer for one request, and why

Commands (anyone):
  explain   explain an SMTP reply, DSN, Exchange NDR string, mail-log line or
            mail-client error code: cause, temporary or not, who acts, the fix

Commands (sending side):
  trace     follow every message through Postfix/Exim logs, attempt by attempt,
            each deferral or bounce classified as explain does
  report    summarise logs: deferrals by cause, domain and relay, stuck mail,
            permanent failures after deferrals, greylisting, rate limits, AUTH
            problems; as text, JSON or one self-contained HTML page

Other:
  version   print the version
  help      this text; "tempfail <command> --help" for a command's flags

Planned (not in this release): probe.
Docs: README.md, docs/config.md, docs/replies.md, docs/architecture.md, docs/explain.md,
docs/trace.md, docs/performance.md.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serveCmd(args[1:], stdout, stderr)
	case "query":
		return queryCmd(args[1:], stdout, stderr)
	case "explain":
		return explainCmd(args[1:], os.Stdin, stdout, stderr)
	case "trace":
		return traceCmd(args[1:], os.Stdin, stdout, stderr)
	case "report":
		return reportCmd(args[1:], os.Stdin, stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "tempfail", version)
		return 0
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return 0
	case "probe":
		fmt.Fprintf(stderr, "tempfail %s: not implemented yet in this release (see the README's roadmap)\n", args[0])
		return 2
	}
	fmt.Fprintf(stderr, "tempfail: unknown command %q\n\n%s", args[0], usage)
	return 2
}
