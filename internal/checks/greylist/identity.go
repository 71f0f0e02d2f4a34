package greylist

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/facts"
	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/store"
)

// Ways of identifying the client in the greylisting key (key_by).
const (
	KeySPF     = "spf"     // the sender's domain, when SPF passes for it
	KeyFCrDNS  = "fcrdns"  // the organisational domain of a forward-confirmed PTR name
	KeyNetwork = "network" // the client network (/24, /64): always the last resort
)

// Reasons of the DNS-aware parts of greylisting.
const (
	ReasonExemptDNSWL = "exempt_dnswl"
	ReasonLowRisk     = "low_risk"
)

// SenderContext is the policy_context (Postfix 3.1+) of a
// check_policy_service in smtpd_sender_restrictions, where Postfix words a
// reply "<sender>: Sender address rejected: ..." (docs/replies.md).
// Greylisting does not answer such requests.
const SenderContext = "sender"

// identity is the client part of the greylisting key.
type identity struct {
	key string // what is stored: a network, "spf:<domain>" or "dns:<org domain>"
	net string // the client network, for the pending cap and old records
	via string // KeySPF, KeyFCrDNS or KeyNetwork
	// desc is "client keyed by <key>" ("" for the network); key is its
	// tail, so both cost one allocation per request.
	desc string
}

const keyedBy = "client keyed by "

// keyed returns the identity for key prefix+name.
func keyed(prefix, name, net, via string) identity {
	d := keyedBy + prefix + name
	return identity{key: d[len(keyedBy):], net: net, via: via, desc: d}
}

// identify picks the client's identity in key_by order. A large sender
// retries from any address of its pool: an address its SPF record
// authorises, or a host whose forward-confirmed name is in its domain. Keyed
// on that verified identity, the retry matches the first attempt wherever
// it comes from. DNS is asked only here, after the exemptions, and a
// temporary DNS failure falls through to the next way (in the end the
// network), never to an error.
func (g *Check) identify(ctx context.Context, c *engine.Call, net string) identity {
	for _, k := range g.cfg.KeyBy {
		switch k {
		case KeySPF:
			s := c.Facts.DNS.SPF(ctx)
			if s.Pass() && s.Identity == "mailfrom" && s.Domain != "" {
				return keyed("spf:", s.Domain, net, KeySPF)
			}
		case KeyFCrDNS:
			rd := c.Facts.DNS.ReverseDNS(ctx)
			if !rd.Confirmed() {
				continue
			}
			// A generic end-user name (ip-1-2-3-4.dsl.isp.example) says
			// nothing about who sends; the whole ISP is not one sender.
			if dyn, _ := facts.Dynamic(rd.Name, c.Req.Client); dyn {
				continue
			}
			if org := facts.OrgDomain(rd.Name); strings.Contains(org, ".") {
				return keyed("dns:", org, net, KeyFCrDNS)
			}
		case KeyNetwork:
			return identity{key: net, net: net, via: KeyNetwork}
		}
	}
	return identity{key: net, net: net, via: KeyNetwork}
}

// detail says how the client was keyed, for logs and tempfail query.
func (id identity) detail() string {
	if id.via == KeyNetwork {
		return ""
	}
	return id.desc
}

// allowlistedAs checks the auto-allowlist under the identity, then (for
// records written before identity keying, or by a request whose DNS failed)
// under the network.
func (g *Check) allowlistedAs(ctx context.Context, c *engine.Call, id identity) (bool, error) {
	ok, err := g.allowlisted(ctx, c, id.key)
	if ok || err != nil || id.key == id.net {
		return ok, err
	}
	return g.allowlisted(ctx, c, id.net)
}

// tripletKeyFor returns the store key of the request's triplet: under the
// network when a record exists there (written before identity keying, or
// while DNS was failing), which then keeps counting; else under the
// identity. Asking for the network's record first costs one store read
// for a new triplet, where asking for the identity's first cost two (its
// own, which the caller reads again, then the network's).
func (g *Check) tripletKeyFor(ctx context.Context, c *engine.Call, id identity) (string, error) {
	sender, rcpt := NormalizeSender(c.Req.Sender), c.Req.Recipient
	if id.key == id.net {
		return tripletKey(id.key, sender, rcpt), nil
	}
	old := tripletKey(id.net, sender, rcpt)
	switch _, _, err := g.st.Get(ctx, old); {
	case err == nil:
		return old, nil
	case !errors.Is(err, store.ErrNotFound):
		return "", err
	}
	return tripletKey(id.key, sender, rcpt), nil
}

// dnswl exempts a client on a DNS allowlist (a negative DNSBL score,
// e.g. list.dnswl.org with weight -2). Only asked when lists are
// configured.
func (g *Check) dnswl(ctx context.Context, c *engine.Call) (policy.Verdict, bool) {
	d := c.Facts.DNS.DNSBL(ctx)
	if !d.Checked || !d.Allowlisted() || d.Score >= 0 {
		return policy.Verdict{}, false
	}
	var lists []string
	for _, h := range d.Hits {
		if h.Allow() {
			lists = append(lists, h.List)
		}
	}
	return g.trusted(c, policy.Verdict{Reason: ReasonExemptDNSWL,
		Detail: "listed on " + strings.Join(lists, ", ") + " (score " + strconv.Itoa(d.Score) + ")"}), true
}

// lowRisk lets a client below the risk threshold through without
// greylisting (risk_based = true). The client is new here (it is not on
// the auto-allowlist), which adds the "new" weight.
func (g *Check) lowRisk(ctx context.Context, c *engine.Call) (policy.Verdict, bool) {
	c.Facts.DNS.AddRisk("new", c.Facts.DNS.NewWeight())
	risk := c.Facts.DNS.Risk(ctx)
	if risk.Score >= g.cfg.RiskThreshold {
		return policy.Verdict{}, false
	}
	return policy.Verdict{Check: Name, Reason: ReasonLowRisk,
		Detail: "risk " + risk.String() + " below " + strconv.Itoa(g.cfg.RiskThreshold)}, true
}
