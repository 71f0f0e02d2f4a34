// Package greylist is the greylisting check: the first attempt of an unknown
// (client network, sender, recipient) triplet is deferred; a retry after the
// delay passes. Legitimate MTAs retry (RFC 5321 section 4.5.4.1); spam
// cannons mostly do not.
//
// Name: greylist
//
// What it does: see README.md in this folder for the decision table.
//
// Config: [greylist] (Config, docs/config.md).
//
// Replies: DEFER_IF_PERMIT 4.2.0 Greylisted, retry after N seconds (N is the
// real time left); on the first pass PREPEND X-Greylist: delayed N seconds.
//
// Metrics: tempfail_greylist_* (metrics.go).
package greylist

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/reply"
	"github.com/tempfail/tempfail/internal/store"
)

// Name is the check's name in logs, metrics and verdicts.
const Name = "greylist"

// Reasons this check gives, machine-readable.
const (
	ReasonNewTriplet      = "new_triplet"
	ReasonRetryTooEarly   = "retry_too_early"
	ReasonRetryWindowOver = "retry_window_expired"
	ReasonPendingCap      = "pending_cap"
	ReasonPassed          = "passed"
	ReasonKnown           = "known_triplet"
	ReasonAutoAllowlist   = "auto_allowlist"
	ReasonExemptSASL      = "exempt_sasl"
	ReasonExemptClient    = "exempt_client"
	ReasonExemptSender    = "exempt_sender"
	ReasonExemptRecipient = "exempt_recipient"
	ReasonDeferredToData  = "deferred_to_data"
	ReasonGreylistedData  = "greylisted_at_data"
)

// ClientMatcher matches a client by address and by Postfix's verified
// client_name (never the unverified reverse_client_name).
type ClientMatcher interface {
	Match(ip netip.Addr, verifiedName string) (entry string, ok bool)
}

// AddressMatcher matches an e-mail address (or its domain).
type AddressMatcher interface {
	Match(addr string) (entry string, ok bool)
}

// Exemptions are the lists a request is checked against before greylisting.
// A nil matcher matches nothing.
type Exemptions struct {
	Clients    ClientMatcher
	Senders    AddressMatcher
	Recipients AddressMatcher
}

// Check is the greylisting check.
type Check struct {
	cfg Config
	st  store.Store
	ex  Exemptions
	m   *Metrics
}

// New returns the check. cfg must have passed Validate.
func New(cfg Config, st store.Store, ex Exemptions, m *Metrics) *Check {
	if m == nil {
		m = NewMetrics(nil)
	}
	return &Check{cfg: cfg, st: st, ex: ex, m: m}
}

// Name implements engine.Check.
func (g *Check) Name() string { return Name }

// txnState is what greylisting keeps per SMTP transaction.
type txnState struct {
	prepended bool
	// passAt is the latest instant at which every recipient greylisted in
	// this transaction would pass (defer_at = "data").
	passAt time.Time
	held   int // recipients greylisted in this transaction
}

func (g *Check) txn(c *engine.Call) txnState {
	if c.Txn == nil {
		return txnState{}
	}
	s, _ := c.Txn.Get(Name).(txnState)
	return s
}

func (g *Check) updateTxn(c *engine.Call, f func(*txnState)) {
	if c.Txn == nil || c.Req.DryRun {
		return
	}
	c.Txn.Update(Name, func(old any) any {
		s, _ := old.(txnState)
		f(&s)
		return s
	})
}

// Check implements engine.Check.
func (g *Check) Check(ctx context.Context, c *engine.Call) (policy.Verdict, error) {
	r := c.Req
	switch r.State {
	case policy.StateRcpt:
	case policy.StateData:
		if g.cfg.DeferAt == "data" {
			return g.atData(c), nil
		}
		return policy.Verdict{}, nil
	default:
		return policy.Verdict{}, nil
	}
	if r.PolicyContext == SenderContext {
		// Asked from smtpd_sender_restrictions for the sender checks'
		// sake: greylisting answers the recipient-restrictions request.
		return policy.Verdict{}, nil
	}
	if v, ok := g.exempt(c); ok {
		return v, nil
	}
	if v, ok := g.dnswl(ctx, c); ok {
		return v, nil
	}
	net := ClientNet(r.Client, g.cfg.IPv4Prefix, g.cfg.IPv6Prefix)
	id := g.identify(ctx, c, net) // identity.go: SPF domain, FCrDNS domain or network
	if ok, err := g.allowlistedAs(ctx, c, id); err != nil {
		return policy.Verdict{}, err
	} else if ok {
		return g.trusted(c, policy.Verdict{Reason: ReasonAutoAllowlist, Detail: id.detail()}), nil
	}
	if g.cfg.RiskBased {
		if v, ok := g.lowRisk(ctx, c); ok {
			g.m.Outcomes.WithLabelValues(v.Reason).Inc()
			return v, nil
		}
	}
	v, err := g.triplet(ctx, c, id)
	if err != nil {
		return policy.Verdict{}, err
	}
	if v.Detail == "" {
		v.Detail = id.detail()
	}
	g.m.Outcomes.WithLabelValues(v.Reason).Inc()
	if g.cfg.DeferAt == "data" && v.Temporary() {
		// Remember, let this recipient through for now, decide at DATA so
		// that a message is never half accepted.
		wait := v.Wait
		g.updateTxn(c, func(s *txnState) {
			s.held++
			if at := c.Now.Add(wait); at.After(s.passAt) {
				s.passAt = at
			}
		})
		return policy.Verdict{Reason: ReasonDeferredToData}, nil
	}
	return v, nil
}

func (g *Check) exempt(c *engine.Call) (policy.Verdict, bool) {
	r := c.Req
	var reason, entry string
	switch {
	case r.Authenticated():
		reason, entry = ReasonExemptSASL, "sasl_username="+r.SASLUsername
	default:
		if m := g.ex.Clients; m != nil {
			if e, ok := m.Match(r.Client, verified(r.ClientName)); ok {
				reason, entry = ReasonExemptClient, e
				break
			}
		}
		if m := g.ex.Recipients; m != nil {
			if e, ok := m.Match(r.Recipient); ok {
				reason, entry = ReasonExemptRecipient, e
				break
			}
		}
		if m := g.ex.Senders; m != nil && r.Sender != "" {
			// Try the address as sent, then without its BATV/SRS wrapping,
			// so "prvs=TAG=billing@vendor.example" matches its entry.
			if e, ok := m.Match(r.Sender); ok {
				reason, entry = ReasonExemptSender, e
			} else if wrapped(r.Sender) { // else unwrapping gives it back
				if e, ok := m.Match(unwrapSender(r.Sender)); ok {
					reason, entry = ReasonExemptSender, e
				}
			}
		}
	}
	if reason == "" {
		return policy.Verdict{}, false
	}
	if reason != ReasonExemptSASL {
		entry = "list entry " + entry
	}
	v := policy.Verdict{Reason: reason, Detail: entry, Check: Name}
	if reason == ReasonExemptRecipient {
		// A recipient exemption (postmaster@) says nothing about the
		// client: anyone may write to postmaster, so it must not make the
		// client established for the rest of the transaction.
		return v, true
	}
	return g.trusted(c, v), true
}

// verified returns Postfix's client_name unless it is "unknown".
func verified(name string) string {
	if strings.EqualFold(name, "unknown") {
		return ""
	}
	return name
}

func (g *Check) trusted(c *engine.Call, v policy.Verdict) policy.Verdict {
	c.Facts.Trusted = true
	c.Facts.TrustedBy = Name + ":" + v.Reason
	v.Check = Name
	return v
}

// allowlisted reports whether net is on the auto-allowlist, refreshing its
// expiry at most once per counting interval so busy networks do not write
// on every request.
func (g *Check) allowlisted(ctx context.Context, c *engine.Call, net string) (bool, error) {
	if g.cfg.AutoAllowlist == 0 {
		return false, nil
	}
	key := allowKey(net)
	b, _, err := g.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("greylist: read auto-allowlist %s: %w", net, err)
	}
	a, ok := decodeAllow(b)
	if !ok || int(a.count) < g.cfg.AutoAllowlist {
		return false, nil
	}
	if !c.Req.DryRun && c.Now.Unix()-a.counted >= int64(g.cfg.AutoAllowlistInterval.D()/time.Second) {
		na := allowRec{count: a.count, counted: c.Now.Unix()}
		// A lost race only means another request refreshed it.
		if _, err := g.st.CompareAndSwap(ctx, key, b, na.encode(), c.Now.Add(g.cfg.MaxAge.D())); err != nil {
			return false, fmt.Errorf("greylist: refresh auto-allowlist %s: %w", net, err)
		}
	}
	return true, nil
}

// countPass adds one pass to the network's auto-allowlist count, at most
// one per interval, so one busy sender cannot allowlist itself in a minute.
func (g *Check) countPass(ctx context.Context, c *engine.Call, net string) error {
	if g.cfg.AutoAllowlist == 0 || c.Req.DryRun {
		return nil
	}
	key := allowKey(net)
	for try := 0; try < 4; try++ {
		b, _, err := g.st.Get(ctx, key)
		var a allowRec
		switch {
		case errors.Is(err, store.ErrNotFound):
			b = nil
		case err != nil:
			return fmt.Errorf("greylist: read auto-allowlist %s: %w", net, err)
		default:
			a, _ = decodeAllow(b)
			if a.count > 0 && c.Now.Unix()-a.counted < int64(g.cfg.AutoAllowlistInterval.D()/time.Second) {
				return nil
			}
		}
		na := allowRec{count: a.count + 1, counted: c.Now.Unix()}
		ok, err := g.st.CompareAndSwap(ctx, key, b, na.encode(), c.Now.Add(g.cfg.MaxAge.D()))
		if err != nil {
			return fmt.Errorf("greylist: update auto-allowlist %s: %w", net, err)
		}
		if ok {
			if int(na.count) == g.cfg.AutoAllowlist {
				g.m.Allowlisted.Inc()
			}
			return nil
		}
	}
	return nil // contended: another request of the same network counted
}

// triplet applies the greylisting timing rules to one triplet.
func (g *Check) triplet(ctx context.Context, c *engine.Call, id identity) (policy.Verdict, error) {
	key, err := g.tripletKeyFor(ctx, c, id)
	if err != nil {
		return policy.Verdict{}, fmt.Errorf("greylist: read triplet: %w", err)
	}
	var o outcome
	if u, ok := g.st.(store.Updater); ok {
		// One locked read-modify-write: half the store work of Get +
		// CompareAndSwap, and no race to lose.
		err := u.Update(ctx, key, func(old []byte, live bool) ([]byte, time.Time, bool) {
			o = g.step(c, id.net, old, live)
			return o.next, o.expire, o.next != nil && !c.Req.DryRun
		})
		if err != nil {
			return policy.Verdict{}, fmt.Errorf("greylist: update triplet: %w", err)
		}
		return g.settle(ctx, c, id, o)
	}
	// A store over the network (Redis) cannot run step under its lock:
	// read, decide, and write only if nobody changed the triplet meanwhile.
	for try := 0; ; try++ {
		b, _, err := g.st.Get(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			b = nil
		case err != nil:
			return policy.Verdict{}, fmt.Errorf("greylist: read triplet: %w", err)
		}
		o = g.step(c, id.net, b, b != nil)
		if o.next == nil || c.Req.DryRun {
			return o.v, nil
		}
		ok, err := g.st.CompareAndSwap(ctx, key, b, o.next, o.expire)
		if err != nil {
			return policy.Verdict{}, fmt.Errorf("greylist: write triplet: %w", err)
		}
		if ok {
			return g.settle(ctx, c, id, o)
		}
		if try >= 3 {
			// Another request of the same triplet is racing us (two
			// recipients' smtpd processes): its answer is as good as ours.
			return o.v, nil
		}
	}
}

// outcome is what step decided for one triplet.
type outcome struct {
	v      policy.Verdict
	next   []byte    // the triplet's new record; nil: leave it alone
	expire time.Time // next's expiry
	first  int64     // when the triplet was first seen (Unix seconds)
}

// step decides one triplet from its stored record b (live false when there
// is none): the verdict, and the record to store. It must stay quick and
// must not call the store: with a store.Updater it runs under the key's
// lock.
func (g *Check) step(c *engine.Call, net string, b []byte, live bool) outcome {
	now := c.Now.Unix()
	delay := int64(g.cfg.Delay.D() / time.Second)
	window := int64(g.cfg.RetryWindow.D() / time.Second)
	var t triplet
	found := false
	if live {
		// A value that does not decode starts over, replacing it.
		t, found = decodeTriplet(b)
	}
	o := outcome{first: t.first}
	switch {
	case found && t.passed != 0:
		// Known and passed before: no delay. Refresh its age at most
		// hourly; max_age counts from the last mail.
		o.v = g.trusted(c, policy.Verdict{Reason: ReasonKnown})
		if now-t.passed >= 3600 {
			o.next, o.expire = triplet{t.first, now}.encode(), c.Now.Add(g.cfg.MaxAge.D())
		}
	case found && now-t.first < delay:
		o.v = g.deferFor(delay-(now-t.first), ReasonRetryTooEarly)
	case found && now-t.first <= window:
		o.v = g.pass(c, now-t.first)
		o.next, o.expire = triplet{t.first, now}.encode(), c.Now.Add(g.cfg.MaxAge.D())
	default:
		reason := ReasonNewTriplet
		if found {
			reason = ReasonRetryWindowOver
		}
		o.v = g.deferFor(delay, reason)
		if !c.Req.DryRun && g.pendingFull(c, net, !live) {
			g.m.PendingCapped.Inc()
			o.v.Reason = ReasonPendingCap
			return o
		}
		o.next, o.expire = triplet{first: now}.encode(), c.Now.Add(g.cfg.RetryWindow.D())
	}
	return o
}

// settle finishes a triplet whose new record is stored: a pass counts
// towards the network's auto-allowlist.
func (g *Check) settle(ctx context.Context, c *engine.Call, id identity, o outcome) (policy.Verdict, error) {
	if o.v.Reason != ReasonPassed || c.Req.DryRun {
		return o.v, nil
	}
	g.m.DelayUntilPass.Observe(float64(c.Now.Unix() - o.first))
	if err := g.countPass(ctx, c, id.key); err != nil {
		return policy.Verdict{}, err
	}
	return o.v, nil
}

// pendingFull counts a new waiting triplet for its network and reports
// whether the network is over its cap.
func (g *Check) pendingFull(c *engine.Call, net string, fresh bool) bool {
	if !fresh {
		return false // replacing an expired record does not add one
	}
	span := int64(g.cfg.RetryWindow.D()/time.Second) / 2
	return g.m.pending.add(net, c.Now.Unix(), span) > g.cfg.MaxPendingPerNetwork
}

func (g *Check) deferFor(wait int64, reason string) policy.Verdict {
	if wait < 1 {
		wait = 1
	}
	return policy.Verdict{
		Action:   policy.DeferIfPermit,
		Enhanced: reply.GreylistEnhanced,
		Text:     fill(g.cfg.Text, wait),
		Check:    Name,
		Reason:   reason,
		Wait:     time.Duration(wait) * time.Second,
	}
}

// pass lets a retry through. It does not mark the client trusted: a client
// that passes greylisting in this very transaction is still new (otherwise
// every message that reaches END-OF-MESSAGE would be trusted and the rate
// limits for new clients would never apply); only a triplet that passed in
// an earlier transaction (known_triplet) establishes it.
func (g *Check) pass(c *engine.Call, waited int64) policy.Verdict {
	v := policy.Verdict{Reason: ReasonPassed, Check: Name}
	if !g.cfg.AddHeader || g.txn(c).prepended {
		return v
	}
	g.updateTxn(c, func(s *txnState) { s.prepended = true })
	v.Action = policy.Prepend
	v.Text = fill(g.cfg.Header, waited)
	return v
}

// atData defers the whole message when any recipient was greylisted in this
// transaction (defer_at = "data").
func (g *Check) atData(c *engine.Call) policy.Verdict {
	s := g.txn(c)
	if s.held == 0 {
		return policy.Verdict{}
	}
	wait := int64(math.Ceil(s.passAt.Sub(c.Now).Seconds()))
	v := g.deferFor(wait, ReasonGreylistedData)
	g.m.Outcomes.WithLabelValues(v.Reason).Inc()
	return v
}
