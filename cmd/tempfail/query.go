package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/tempfail/tempfail/internal/config"
	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/postfixpolicy"
)

const queryUsage = `Usage: tempfail query [flags]

Sends one policy request to a running tempfail serve and prints what it
would answer, which check decided and why. By default the request is a dry
run: it changes no state (no greylisting entry is created). With --commit
it is a real request, exactly as if Postfix had sent it.

Every rate limit that applies to the request is listed with its key, the
budget left and, when over, the seconds until a retry can pass ("limit:"
lines). A dry run never consumes budget.

Examples:
  tempfail query --client 203.0.113.7 --sender alice@example.org --recipient bob@example.net
  tempfail query --client 203.0.113.7 --sasl-user alice --sender alice@example.org --recipient bob@example.net
  tempfail query --state END-OF-MESSAGE --count 3 --size 20000 --client 203.0.113.7 --sender alice@example.org

Flags:
`

func queryCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("query", flag.ContinueOnError)
	fs.SetOutput(stderr)
	server := fs.String("server", config.DefaultListen, "policy server `address` (host:port or unix:/path)")
	client := fs.String("client", "127.0.0.1", "client IP `address` (client_address)")
	clientName := fs.String("client-name", "", "verified client hostname (client_name); default \"unknown\"")
	reverseName := fs.String("reverse-name", "", "unverified PTR name (reverse_client_name); default: client-name")
	helo := fs.String("helo", "", "HELO/EHLO name (helo_name)")
	sender := fs.String("sender", "", "envelope sender (empty: the null sender <>)")
	rcpt := fs.String("recipient", "", "envelope recipient")
	sasl := fs.String("sasl-user", "", "SMTP AUTH user name (sasl_username)")
	state := fs.String("state", "RCPT", "protocol state: CONNECT, EHLO, MAIL, RCPT, DATA, END-OF-MESSAGE")
	instance := fs.String("instance", "", "transaction id (Postfix instance); default: a fresh one")
	size := fs.Int64("size", 0, "message size in bytes (size)")
	count := fs.Int("count", 0, "recipient count (recipient_count, at DATA / END-OF-MESSAGE)")
	commit := fs.Bool("commit", false, "a real request that updates state, not a dry run")
	asJSON := fs.Bool("json", false, "print the answer as JSON")
	timeout := fs.Duration("timeout", 10*time.Second, "give up after this long")
	fs.Usage = func() { fmt.Fprint(fs.Output(), queryUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		return 2
	}
	ip, err := netip.ParseAddr(*client)
	if err != nil {
		fmt.Fprintf(stderr, "tempfail query: --client: %v\n", err)
		return 2
	}
	st := policy.State(strings.ToUpper(*state))
	switch st {
	case policy.StateConnect, policy.StateEHLO, policy.StateHELO, policy.StateMail, policy.StateRcpt,
		policy.StateData, policy.StateEndOfMessage, policy.StateVRFY, policy.StateETRN:
	default:
		fmt.Fprintf(stderr, "tempfail query: --state: unknown protocol state %q\n", *state)
		return 2
	}
	name := *clientName
	if name == "" {
		name = "unknown"
	}
	rev := *reverseName
	if rev == "" {
		rev = name
	}
	inst := *instance
	if inst == "" {
		inst = "query." + strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	req := &policy.Request{
		Kind: postfixpolicy.RequestType, State: st, Protocol: "ESMTP",
		ClientAddress: ip.String(), Client: ip, ClientName: name, ReverseClientName: rev,
		HeloName: *helo, Sender: *sender, Recipient: *rcpt, SASLUsername: *sasl,
		Instance: inst, Size: *size, RcptCount: *count, DryRun: !*commit,
	}
	if *sasl != "" {
		req.SASLMethod = "PLAIN"
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	resp, err := postfixpolicy.Query(ctx, *server, req, true)
	if err != nil {
		fmt.Fprintf(stderr, "tempfail query: %v\n(is `tempfail serve` running and listening on %s?)\n", err, *server)
		return 1
	}
	if *asJSON {
		out := map[string]any{"action": resp.Action, "check": resp.Check, "reason": resp.Reason, "dry_run": !*commit}
		if resp.Detail != "" {
			out["detail"] = resp.Detail
		}
		if len(resp.Limits) > 0 {
			out["limits"] = limitsJSON(resp.Limits)
		}
		for _, a := range dnsNotes(resp.Attrs) {
			out[a.Name] = a.Value
		}
		b, _ := json.Marshal(out)
		fmt.Fprintln(stdout, string(b))
		return 0
	}
	fmt.Fprintf(stdout, "action: %s\n", resp.Action)
	if resp.Check != "" {
		fmt.Fprintf(stdout, "check:  %s\n", resp.Check)
	}
	if resp.Reason != "" {
		fmt.Fprintf(stdout, "reason: %s\n", resp.Reason)
	}
	if resp.Detail != "" {
		fmt.Fprintf(stdout, "detail: %s\n", resp.Detail)
	}
	for _, l := range resp.Limits {
		fmt.Fprintf(stdout, "limit:  %s\n", l)
	}
	for _, a := range dnsNotes(resp.Attrs) {
		fmt.Fprintf(stdout, "%-7s %s\n", a.Name+":", a.Value)
	}
	if !*commit {
		fmt.Fprintln(stdout, "(dry run: nothing was recorded; --commit makes it a real request)")
	}
	return 0
}

// limitsJSON turns x_tempfail_limit= values ("NAME key=K remaining=N ...")
// into objects: {"name": NAME, "key": K, "remaining": "N", ...}.
func limitsJSON(ls []string) []map[string]string {
	out := make([]map[string]string, 0, len(ls))
	for _, l := range ls {
		f := strings.Fields(l)
		if len(f) == 0 {
			continue
		}
		m := map[string]string{"name": f[0]}
		for _, kv := range f[1:] {
			if k, v, ok := strings.Cut(kv, "="); ok {
				m[k] = v
			}
		}
		out = append(out, m)
	}
	return out
}

// dnsNotes picks the DNS facts a verbose answer carries: x_tempfail_risk=
// (score and parts), x_tempfail_dns= (reverse DNS, sender domain, SPF,
// DNSBL) and the DNS checks' own notes (x_tempfail_spf=,
// x_tempfail_reversedns=, x_tempfail_dnsbl=), named without the prefix.
func dnsNotes(attrs []policy.Attr) []policy.Attr {
	var out []policy.Attr
	for _, a := range attrs {
		switch name := strings.TrimPrefix(a.Name, "x_tempfail_"); name {
		case "risk", "dns", "spf", "reversedns", "dnsbl":
			out = append(out, policy.Attr{Name: name, Value: a.Value})
		}
	}
	return out
}
