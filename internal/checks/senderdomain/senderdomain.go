// Package senderdomain is the sender domain check: mail from a domain that
// does not exist in the DNS as a mail domain (no MX, no A/AAAA: RFC 5321
// section 5.1) cannot be answered, so it is deferred with
// "450 4.1.8 Domain not found", as Postfix's reject_unknown_sender_domain
// does; a domain that publishes a null MX (RFC 7505 section 4.2) says it
// sends no mail and is rejected with "550 5.7.27".
//
// Name: senderdomain
//
// What it does: see README.md in this folder for the decision table.
//
// Config: [senderdomain] (Config, docs/config.md).
//
// Replies: 450 4.1.8 Domain not found; 550 5.7.27 Domain does not accept
// mail (Postfix adds "<address>: Sender address rejected: ").
//
// Metrics: tempfail_senderdomain_outcomes_total{outcome}.
package senderdomain

import (
	"context"

	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/facts"
	"github.com/tempfail/tempfail/internal/policy"
)

// Name is the check's name in logs, metrics and verdicts.
const Name = "senderdomain"

// Reasons this check gives.
const (
	ReasonNotFound    = "domain_not_found"
	ReasonNullMX      = "null_mx"
	ReasonDNSTempfail = "dns_tempfail"
)

// Check is the sender domain check.
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

// Check implements engine.Check.
func (s *Check) Check(ctx context.Context, c *engine.Call) (policy.Verdict, error) {
	r := c.Req
	switch r.State {
	case policy.StateMail, policy.StateRcpt:
	default:
		return policy.Verdict{}, nil
	}
	switch {
	case r.Sender == "":
		return policy.Verdict{}, nil // the null sender has no domain to check
	case r.Authenticated():
		s.m.Outcomes.WithLabelValues("exempt_sasl").Inc()
		return policy.Verdict{}, nil
	}
	d := c.Facts.DNS.SenderDomain(ctx)
	switch d.Status {
	case facts.OK:
		s.m.Outcomes.WithLabelValues("ok").Inc()
		return policy.Verdict{}, nil
	case facts.Missing:
		s.m.Outcomes.WithLabelValues("not_found").Inc()
		return policy.Verdict{Action: policy.Reply, Code: s.cfg.Code, Enhanced: s.cfg.Enhanced,
			Text: s.cfg.Text, Check: Name, Reason: ReasonNotFound, Detail: d.Domain + ": " + d.Via}, nil
	case facts.NullMX:
		s.m.Outcomes.WithLabelValues("null_mx").Inc()
		return policy.Verdict{Action: policy.Reply, Code: s.cfg.NullMXCode, Enhanced: s.cfg.NullMXEnhanced,
			Text: s.cfg.NullMXText, Check: Name, Reason: ReasonNullMX, Detail: d.Domain + ": null MX (RFC 7505)"}, nil
	case facts.TempFail:
		s.m.Outcomes.WithLabelValues("dns_tempfail").Inc()
		v := policy.Verdict{Check: Name, Reason: ReasonDNSTempfail, Detail: d.Domain + ": " + d.Via}
		if s.cfg.OnTempfail == "defer" {
			code, enh := s.cfg.Code, s.cfg.Enhanced
			if code >= 500 { // "defer" is never permanent
				code, enh = 450, "4"+enh[1:]
			}
			v.Action, v.Code, v.Enhanced, v.Text = policy.Reply, code, enh, s.cfg.Text
		}
		return v, nil
	}
	s.m.Outcomes.WithLabelValues("no_domain").Inc()
	return policy.Verdict{}, nil
}
