// Package reversedns is the reverse DNS check: a client whose address has
// no PTR record, or whose PTR names do not resolve back to it (no
// forward-confirmed reverse DNS, "FCrDNS"), is deferred in enforce mode,
// as Postfix's reject_unknown_reverse_client_hostname and
// reject_unknown_client_hostname do; in warn mode (the default) it is only
// logged and counted.
//
// Postfix's verified client_name is used when it names a host. When
// Postfix says "unknown", the lookups are repeated here, because Postfix's
// "unknown" does not tell a missing PTR from a DNS timeout (facts package).
//
// Name: reversedns
//
// What it does: see README.md in this folder for the decision table.
//
// Config: [reversedns] (Config, docs/config.md).
//
// Replies: 450 4.7.1 cannot find your reverse hostname, [ip];
// 450 4.7.25 reverse DNS does not match, [ip] (RFC 7372 section 3.3).
//
// Metrics: tempfail_reversedns_outcomes_total{outcome,mode}.
package reversedns

import (
	"context"
	"log/slog"
	"strings"

	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/facts"
	"github.com/tempfail/tempfail/internal/lists"
	"github.com/tempfail/tempfail/internal/policy"
)

// Name is the check's name in logs, metrics and verdicts.
const Name = "reversedns"

// Reasons this check gives.
const (
	ReasonNoPTR        = "no_ptr"
	ReasonMismatch     = "ptr_mismatch"
	ReasonDNSTempfail  = "dns_tempfail"
	ReasonExemptSASL   = "exempt_sasl"
	ReasonExemptClient = "exempt_client"
)

// Check is the reverse DNS check.
type Check struct {
	cfg     Config
	clients *lists.ClientList
	m       *Metrics
}

// New returns the check. cfg must have passed Validate; clients may be nil.
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
	if x.cfg.Mode == "off" {
		return policy.Verdict{}, nil
	}
	if r.Authenticated() {
		x.m.Outcomes.WithLabelValues("exempt", x.cfg.Mode).Inc()
		return policy.Verdict{}, nil
	}
	if x.clients != nil && x.clients.Len() > 0 {
		name := r.ClientName
		if strings.EqualFold(name, "unknown") {
			name = ""
		}
		if _, ok := x.clients.Match(r.Client, name); ok {
			x.m.Outcomes.WithLabelValues("exempt", x.cfg.Mode).Inc()
			return policy.Verdict{}, nil
		}
	}
	rd := c.Facts.DNS.ReverseDNS(ctx)
	var v policy.Verdict
	switch rd.Status {
	case facts.OK:
		x.m.Outcomes.WithLabelValues("confirmed", x.cfg.Mode).Inc()
		return policy.Verdict{}, nil
	case facts.Missing:
		x.m.Outcomes.WithLabelValues("no_ptr", x.cfg.Mode).Inc()
		v = x.reply(x.cfg.NoPTRCode, x.cfg.NoPTREnhanced, x.cfg.NoPTRText, ReasonNoPTR, r)
		v.Detail = "no PTR record"
	case facts.Mismatch:
		x.m.Outcomes.WithLabelValues("mismatch", x.cfg.Mode).Inc()
		v = x.reply(x.cfg.MismatchCode, x.cfg.MismatchEnhanced, x.cfg.MismatchText, ReasonMismatch, r)
		v.Detail = "PTR " + rd.Name + " does not resolve back to " + r.Client.Unmap().String()
	case facts.TempFail:
		x.m.Outcomes.WithLabelValues("dns_tempfail", x.cfg.Mode).Inc()
		if x.cfg.OnTempfail == "defer" && x.cfg.Mode == "enforce" {
			code, enh := x.cfg.NoPTRCode, x.cfg.NoPTREnhanced
			if code >= 500 {
				code, enh = 450, "4"+enh[1:]
			}
			v = x.reply(code, enh, x.cfg.NoPTRText, ReasonDNSTempfail, r)
			v.Detail = rd.Why
			return v, nil
		}
		// Passed: counted and noted, but the decision line keeps the
		// reason of the check that decides.
		c.Notes.Add("reversedns", ReasonDNSTempfail+" ("+rd.Why+")")
		return policy.Verdict{}, nil
	default:
		return policy.Verdict{}, nil
	}
	if x.cfg.Mode == "warn" {
		// Log and count, and answer a plain DUNNO: the decision line stays
		// with the check that decides (greylisting's reason, say), and
		// this line says what enforce mode would have answered.
		would := v.Line()
		if c.Log != nil {
			c.Log.LogAttrs(ctx, slog.LevelInfo, "reverse DNS warning",
				slog.String("instance", r.Instance), slog.String("client", r.Client.String()),
				slog.String("reason", v.Reason), slog.String("detail", v.Detail),
				slog.String("would_answer", would))
		}
		c.Notes.Add("reversedns", v.Reason+" (warn mode; enforce would answer "+would+")")
		return policy.Verdict{}, nil
	}
	return v, nil
}

func (x *Check) reply(code int, enhanced, text, reason string, r *policy.Request) policy.Verdict {
	return policy.Verdict{Action: policy.Reply, Code: code, Enhanced: enhanced,
		Text: strings.ReplaceAll(text, "{ip}", r.Client.Unmap().String()), Check: Name, Reason: reason}
}
