// Package spf is the SPF check (RFC 7208): the client's right to send for
// the MAIL FROM domain, or for the HELO name when the sender is null
// (section 2.3), evaluated once per transaction by blitiri.com.ar/go/spf
// through tempfail's resolver. Each result has a configurable action;
// by default only "fail" is rejected (550 5.7.23, RFC 7372 section 3.2),
// and every accepted message gets one Received-SPF header (section 9.1).
//
// Name: spf
//
// What it does: see README.md in this folder for the decision table.
//
// Config: [spf] (Config, docs/config.md).
//
// Replies: 550 5.7.23 SPF fail: ...; with an action "defer": 450 4.7.23,
// or 451 4.7.24 for temperror/permerror; PREPEND Received-SPF: ...
//
// Metrics: tempfail_spf_results_total{result,identity}, once per
// evaluation.
package spf

import (
	"context"
	"strings"

	libspf "blitiri.com.ar/go/spf"

	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/facts"
	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/reply"
)

// Name is the check's name in logs, metrics and verdicts.
const Name = "spf"

// Check is the SPF check.
type Check struct {
	cfg Config
	m   *Metrics
}

// New returns the check. cfg must have passed Validate.
func New(cfg Config, m *Metrics) *Check {
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Check{cfg: cfg, m: m}
}

// Name implements engine.Check.
func (s *Check) Name() string { return Name }

// headerSentKey marks, in the transaction state, that Received-SPF was
// handed out.
const headerSentKey = Name + ".header_sent"

// Check implements engine.Check.
func (s *Check) Check(ctx context.Context, c *engine.Call) (policy.Verdict, error) {
	r := c.Req
	switch r.State {
	case policy.StateMail, policy.StateRcpt:
	default:
		return policy.Verdict{}, nil
	}
	if r.Authenticated() {
		return policy.Verdict{}, nil // submission: SPF is about relays
	}
	res := c.Facts.DNS.SPF(ctx)
	if res.Result == "" {
		return policy.Verdict{}, nil
	}
	if !res.Cached {
		// Counted per evaluation: a transaction's later requests, and the
		// same client and sender again within the records' TTL, reuse it.
		s.m.Results.WithLabelValues(string(res.Result), res.Identity).Inc()
	}
	action := s.action(res.Result)
	if action == "pass" {
		// Passed: the result goes into the header (Header, asked by the
		// engine only for an answer that would be DUNNO), the notes and
		// the metrics, not into the verdict, so the decision line keeps
		// the reason of the check that decides.
		if c.Notes != nil {
			c.Notes.Add("spf", string(res.Result)+" ("+res.Identity+" "+res.Domain+": "+res.Why+")")
		}
		return policy.Verdict{}, nil
	}
	v := policy.Verdict{Check: Name, Reason: "spf_" + string(res.Result),
		Detail: res.Identity + " " + res.Domain + ": " + res.Why}
	switch action {
	case "reject":
		v.Action, v.Code, v.Enhanced = policy.Reply, reply.CodeMailboxUnavailable, reply.SPFFailEnhanced
		if isError(res.Result) {
			v.Enhanced = "5.7.24"
		}
		v.Text = s.fill(s.cfg.RejectText, res, r)
	case "defer":
		v.Action, v.Code, v.Enhanced = policy.Reply, reply.CodeMailboxBusy, "4.7.23"
		if isError(res.Result) {
			v.Code, v.Enhanced = reply.CodeLocalError, reply.SPFErrorEnhanced
		}
		v.Text = s.fill(s.cfg.DeferText, res, r)
	}
	return v, nil
}

// Header implements engine.Headerer: Received-SPF, once per transaction,
// on the first answer of the transaction that would otherwise be DUNNO
// (the first RCPT usually; the next RCPT or DATA when greylisting's
// X-Greylist took the first). It is built only here, so a deferred
// request never pays for it, and only for a result whose action passed.
func (s *Check) Header(ctx context.Context, c *engine.Call) (string, bool) {
	r := c.Req
	if !s.cfg.AddHeader || c.Txn == nil || r.DryRun || r.Authenticated() {
		return "", false
	}
	if sent, _ := c.Txn.Get(headerSentKey).(bool); sent {
		return "", false
	}
	res := c.Facts.DNS.SPF(ctx)
	if res.Result == "" || s.action(res.Result) != "pass" {
		return "", false
	}
	c.Txn.Update(headerSentKey, func(any) any { return true })
	return s.header(res, r), true
}

func isError(r libspf.Result) bool { return r == libspf.TempError || r == libspf.PermError }

func (s *Check) action(r libspf.Result) string {
	switch r {
	case libspf.Fail:
		return s.cfg.Fail
	case libspf.SoftFail:
		return s.cfg.SoftFail
	case libspf.Neutral:
		return s.cfg.Neutral
	case libspf.None:
		return s.cfg.None
	case libspf.TempError:
		return s.cfg.TempError
	case libspf.PermError:
		return s.cfg.PermError
	}
	return "pass"
}

// explanation is a plain-words reason for the result (the library does not
// fetch exp= explanations, RFC 7208 section 6.2, and a third party's text
// in our reply is better avoided anyway).
func explanation(res facts.SPF, ip string) string {
	switch res.Result {
	case libspf.Fail, libspf.SoftFail, libspf.Neutral:
		return res.Domain + " does not designate " + ip + " as permitted sender"
	case libspf.None:
		return "no SPF record for " + res.Domain
	case libspf.TempError:
		return "temporary DNS error evaluating SPF for " + res.Domain
	case libspf.PermError:
		return "invalid SPF record for " + res.Domain
	}
	return res.Domain + " designates " + ip + " as permitted sender"
}

func (s *Check) fill(tmpl string, res facts.SPF, r *policy.Request) string {
	ip := r.Client.Unmap().String()
	return strings.NewReplacer("{result}", string(res.Result), "{domain}", res.Domain, "{ip}", ip,
		"{sender}", res.Sender, "{explanation}", explanation(res, ip)).Replace(tmpl)
}

// header renders Received-SPF as RFC 7208 section 9.1 shows it:
//
//	Received-SPF: pass (mx.example.net: domain of alice@example.org
//	  designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1;
//	  envelope-from="alice@example.org"; helo=mail.example.org;
//	  receiver=mx.example.net; identity=mailfrom;
//
// (on one line: Postfix's PREPEND takes one line).
func (s *Check) header(res facts.SPF, r *policy.Request) string {
	ip := r.Client.Unmap().String()
	var b strings.Builder
	b.WriteString("Received-SPF: ")
	b.WriteString(string(res.Result))
	b.WriteString(" (")
	if s.cfg.Receiver != "" {
		b.WriteString(s.cfg.Receiver)
		b.WriteString(": ")
	}
	b.WriteString(comment(res, ip))
	b.WriteString(") client-ip=")
	b.WriteString(ip)
	b.WriteString("; envelope-from=")
	b.WriteString(quoted(r.Sender))
	b.WriteString(";")
	if r.HeloName != "" {
		b.WriteString(" helo=")
		b.WriteString(quoted(r.HeloName))
		b.WriteString(";")
	}
	if s.cfg.Receiver != "" {
		b.WriteString(" receiver=")
		b.WriteString(s.cfg.Receiver)
		b.WriteString(";")
	}
	b.WriteString(" identity=")
	b.WriteString(res.Identity)
	b.WriteString(";")
	return b.String()
}

func comment(res facts.SPF, ip string) string {
	who := "domain of " + res.Sender
	if res.Identity == "helo" {
		who = "domain of " + res.Domain
	}
	var s string
	switch res.Result {
	case libspf.Pass:
		s = who + " designates " + ip + " as permitted sender"
	case libspf.Fail, libspf.SoftFail:
		s = who + " does not designate " + ip + " as permitted sender"
	case libspf.Neutral:
		s = ip + " is neither permitted nor denied by " + who
	case libspf.None:
		s = who + " does not publish SPF"
	case libspf.TempError:
		s = "temporary error looking up SPF for " + res.Domain
	default:
		s = "invalid SPF record for " + res.Domain
	}
	// A comment may not contain unbalanced parentheses or backslashes.
	if strings.ContainsAny(s, "()\\") {
		s = commentSafe.Replace(s)
	}
	return s
}

var (
	commentSafe = strings.NewReplacer("(", "", ")", "", "\\", "")
	quoteSafe   = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\r", "", "\n", "")
)

// quoted renders a key-value-pair value as a quoted-string (RFC 5322
// section 3.2.4), which is always allowed.
func quoted(v string) string {
	if strings.ContainsAny(v, "\\\"\r\n") {
		v = quoteSafe.Replace(v)
	}
	return `"` + v + `"`
}
