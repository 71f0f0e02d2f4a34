// Package dnsbl is the DNSBL/DNSWL check: the client's address is scored
// against DNS block and allow lists (RFC 5782) in Postfix's
// postscreen_dnsbl_sites syntax, with weights, and a client whose score
// reaches reject_threshold is rejected as postscreen(8) rejects it:
// "550 5.7.1 Service unavailable; client [ip] blocked using <list>". The
// scoring is internal/dnsbl's; the score is a DNS fact (facts.Set.DNSBL),
// so greylisting (DNSWL-listed clients skip it) and the risk read the same
// lookups. It is off until lists are configured: public lists have usage
// terms, choosing them is the admin's decision.
//
// Name: dnsbl
//
// What it does: see README.md in this folder for the decision table.
//
// Config: [dnsbl] (Config, docs/config.md).
//
// Replies: 550 5.7.1 Service unavailable; client [ip] blocked using <list>
// (reply.DNSBL*), "; <the list's TXT reason>" appended with reply_reason;
// 450 4.7.1 with action = "defer".
//
// Metrics: tempfail_dnsbl_outcomes_total{outcome},
// tempfail_dnsbl_hits_total{list}, tempfail_dnsbl_tempfail_total{list},
// tempfail_dnsbl_problems_total{list,kind}.
package dnsbl

import (
	"context"
	"log/slog"
	"strconv"
	"strings"

	xl "github.com/tempfail/tempfail/internal/dnsbl"
	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/lists"
	"github.com/tempfail/tempfail/internal/policy"
)

// Name is the check's name in logs, metrics and verdicts.
const Name = "dnsbl"

// ReasonListed is the reason of a client at or above the threshold.
const ReasonListed = "dnsbl_listed"

// Check is the DNSBL check.
type Check struct {
	cfg     Config
	clients *lists.ClientList
	m       *Metrics
}

// New returns the check. cfg must have passed Validate; clients may be nil.
// The lists are queried by the facts source's checker (Config.NewChecker,
// facts.Source.DNSBL), which the daemon builds from the same config.
func New(cfg Config, clients *lists.ClientList, m *Metrics) *Check {
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Check{cfg: cfg, clients: clients, m: m}
}

// Name implements engine.Check.
func (x *Check) Name() string { return Name }

// Check implements engine.Check.
func (x *Check) Check(ctx context.Context, c *engine.Call) (policy.Verdict, error) {
	r := c.Req
	switch r.State {
	case policy.StateConnect, policy.StateHELO, policy.StateEHLO, policy.StateMail, policy.StateRcpt:
	default:
		return policy.Verdict{}, nil
	}
	if r.Authenticated() {
		// Submission: users send from dynamic addresses, which policy
		// lists (Spamhaus PBL, part of zen) list on purpose.
		x.m.Outcomes.WithLabelValues("exempt_sasl").Inc()
		return policy.Verdict{}, nil
	}
	if x.clients != nil && x.clients.Len() > 0 {
		name := r.ClientName
		if strings.EqualFold(name, "unknown") {
			name = ""
		}
		if _, ok := x.clients.Match(r.Client, name); ok {
			x.m.Outcomes.WithLabelValues("exempt_client").Inc()
			return policy.Verdict{}, nil
		}
	}
	d := c.Facts.DNS.DNSBL(ctx)
	if !d.Checked {
		return policy.Verdict{}, nil // no client address, or no lists
	}
	hit, listed := d.BlockedBy()
	if c.Notes != nil {
		c.Notes.Add(Name, summary(d.Result, x.cfg.Threshold))
	}
	if !listed || d.Score < x.cfg.Threshold {
		switch {
		case len(d.TempFail) > 0:
			x.m.Outcomes.WithLabelValues("dns_tempfail").Inc()
		case d.Score < 0:
			x.m.Outcomes.WithLabelValues("allowlisted").Inc()
		case listed:
			x.m.Outcomes.WithLabelValues("below_threshold").Inc()
		default:
			x.m.Outcomes.WithLabelValues("not_listed").Inc()
		}
		return policy.Verdict{}, nil
	}
	x.m.Outcomes.WithLabelValues("listed").Inc()
	reason := ""
	if x.cfg.ReplyReason && x.cfg.Action != "log" {
		reason = c.Facts.DNS.DNSBLReason(ctx, hit)
	}
	v := policy.Verdict{Action: policy.Reply, Code: x.cfg.Code, Enhanced: x.cfg.Enhanced,
		Text: xl.FillText(x.cfg.Text, r.Client, hit.List, reason), Check: Name, Reason: ReasonListed,
		Detail: summary(d.Result, x.cfg.Threshold)}
	switch x.cfg.Action {
	case "defer":
		if v.Code >= 500 { // "defer" is never permanent
			v.Code, v.Enhanced = 450, "4"+v.Enhanced[1:]
		}
	case "log":
		// Log and count, answer a plain DUNNO: the decision line stays
		// with the check that decides, this line says what "reject" would
		// have answered.
		would := v.Line()
		c.Log.LogAttrs(ctx, slog.LevelInfo, "DNSBL listed (action log)",
			slog.String("instance", r.Instance), slog.String("client", r.Client.String()),
			slog.String("detail", v.Detail), slog.String("would_answer", would))
		if c.Notes != nil {
			c.Notes.Add(Name, ReasonListed+" (action log; reject would answer "+would+")")
		}
		return policy.Verdict{}, nil
	}
	return v, nil
}

// summary renders a score for logs and tempfail query:
// "score 5 (threshold 3): zen.test*3[127.0.0.2] bb.test=127.0.0.2*2[127.0.0.2]".
func summary(res xl.Result, threshold int) string {
	var b strings.Builder
	b.WriteString("score ")
	b.WriteString(strconv.Itoa(res.Score))
	b.WriteString(" (threshold ")
	b.WriteString(strconv.Itoa(threshold))
	b.WriteString(")")
	sep := ": "
	for _, h := range res.Hits {
		b.WriteString(sep)
		b.WriteString(h.String())
		sep = " "
	}
	for _, f := range res.TempFail {
		b.WriteString(sep)
		b.WriteString(f.List)
		b.WriteString(" tempfail(")
		b.WriteString(f.Reason.String())
		b.WriteString(")")
		sep = " "
	}
	return b.String()
}
