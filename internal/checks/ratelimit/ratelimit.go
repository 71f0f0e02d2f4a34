// Package ratelimit is the rate-limit check: limits declared in config, each
// counting requests, messages, recipients or bytes per key (client address
// or network, sender, sender domain, recipient domain, SASL user, or a
// combination) at one protocol state, with GCRA (package
// internal/ratelimit) over the store. New (untrusted) clients and
// authenticated users get their own tiers; over the limit a request is
// deferred with the real time to wait, held, rejected or only logged.
//
// Name: ratelimit
//
// What it does: see README.md in this folder for the decision table and
// the definition of a "new" client.
//
// Config: [ratelimit] and [[ratelimit.limit]] (Config, docs/config.md).
//
// Replies: 450 4.7.1 Rate limit for new clients exceeded (2/h), try again in
// 27 minutes; 450 4.7.1 Throttled: sending quota for USER exceeded (100/h),
// try again in N minutes; HOLD; 550 5.7.1; for a message that alone exceeds
// the burst 550 5.5.3 (recipients) or 552 5.3.4 (bytes). Texts in
// internal/reply, overridable per limit.
//
// Metrics: tempfail_ratelimit_decisions_total{limit,outcome},
// tempfail_ratelimit_keys{limit} (metrics.go).
package ratelimit

import (
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/policy"
	gcra "github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/reply"
	"github.com/tempfail/tempfail/internal/store"
)

// Name is the check's name in logs, metrics and verdicts.
const Name = "ratelimit"

// Reasons this check gives, machine-readable.
const (
	ReasonOverLimit = "over_limit"          // deferred, held or rejected
	ReasonOverBurst = "over_burst"          // the request alone exceeds the burst: can never pass
	ReasonLogged    = "over_limit_logged"   // action = "log"
	ReasonObserved  = "over_limit_observed" // mode = "observe"
)

// NoteLimit is the name of the note (engine.Notes) added for every limit
// that applies to a request asked with notes: the Postfix front-end sends
// it as x_tempfail_limit=NAME key=SUBJECT remaining=N [retry_after=S].
const NoteLimit = "limit"

// Check is the rate-limit check.
type Check struct {
	lm  *gcra.Limiter
	now func() time.Time
	m   *Metrics
	// by protocol state
	rcpt, data, eom []*limit
}

type limit struct {
	cfg     Limit
	ks      gcra.KeySpace
	lim     gcra.Limit
	clients []netip.Prefix
	users   map[string]bool
	keys    *keyGauge

	allowed, over prometheus.Counter // over: the outcome of the configured action and mode
	rejected      prometheus.Counter // a cost above the burst
}

// New returns the check. cfg must have passed Validate. st is the store the
// GCRA state lives in; m may be nil.
func New(cfg Config, st store.Store, m *Metrics) *Check {
	return NewWithClock(cfg, st, m, time.Now)
}

// NewWithClock is New with a clock, for tests (give the store the same).
func NewWithClock(cfg Config, st store.Store, m *Metrics, now func() time.Time) *Check {
	if m == nil {
		m = NewMetrics(nil)
	}
	k := &Check{lm: gcra.New(st, gcra.Options{Now: now}), now: now, m: m}
	var all []*limit
	for _, lc := range cfg.Limits {
		lim, _ := gcra.NewLimit(lc.Rate, lc.Burst) // validated
		l := &limit{cfg: lc, ks: gcra.NewKeySpace(lc.Name), lim: lim, users: map[string]bool{}}
		for _, s := range lc.ExemptClients {
			if p, err := parseClient(s); err == nil {
				l.clients = append(l.clients, p)
			}
		}
		for _, u := range lc.ExemptUsers {
			l.users[strings.ToLower(u)] = true
		}
		over := OutcomeLimited
		switch {
		case lc.Mode == ModeObserve:
			over = OutcomeObserved
		case lc.Action == ActionHold:
			over = OutcomeHeld
		case lc.Action == ActionReject:
			over = OutcomeRejected
		case lc.Action == ActionLog:
			over = OutcomeLogged
		}
		l.allowed = m.Decisions.WithLabelValues(lc.Name, OutcomeAllowed)
		l.over = m.Decisions.WithLabelValues(lc.Name, over)
		l.rejected = m.Decisions.WithLabelValues(lc.Name, OutcomeRejected)
		if over == OutcomeObserved || over == OutcomeLogged {
			l.rejected = l.over
		}
		switch lc.State {
		case StateRcpt:
			k.rcpt = append(k.rcpt, l)
		case StateData:
			k.data = append(k.data, l)
		default:
			k.eom = append(k.eom, l)
		}
		all = append(all, l)
	}
	m.attach(all)
	return k
}

// Name implements engine.Check.
func (k *Check) Name() string { return Name }

func (k *Check) at(s policy.State) []*limit {
	switch s {
	case policy.StateRcpt:
		return k.rcpt
	case policy.StateData:
		return k.data
	case policy.StateEndOfMessage:
		return k.eom
	}
	return nil
}

// Check implements engine.Check.
func (k *Check) Check(ctx context.Context, c *engine.Call) (policy.Verdict, error) {
	ls := k.at(c.Req.State)
	if len(ls) == 0 {
		return policy.Verdict{}, nil
	}
	return k.decide(ctx, c, ls, false)
}

// Explain implements engine.Explainer: when an earlier check ended the
// chain, `tempfail query` still sees every limit that applies, with its
// budget. It only peeks.
func (k *Check) Explain(ctx context.Context, c *engine.Call) {
	if ls := k.at(c.Req.State); len(ls) > 0 {
		k.decide(ctx, c, ls, true)
	}
}

// eval is one limit applied to one request.
type eval struct {
	l       *limit
	subject string
	key     string
	keyAt   [2]int // key's bounds in decide's key buffer
	cost    int64
	r       gcra.Result
	charged bool
}

// decide applies every limit of the request's state. Limits that can
// refuse (mode enforce, action defer/hold/reject) are charged all or
// nothing (gcra.Limiter.AllowAll: one store operation per limit on the
// embedded store when all pass), so a request refused by one limit is not
// counted by the others (its retry will be). Limits that only log (action log, mode
// observe) are charged on their own when the request passes, and peeked
// when it is refused. A dry run (`tempfail query`) or an explanation only
// peeks: it never consumes budget.
func (k *Check) decide(ctx context.Context, c *engine.Call, ls []*limit, explain bool) (policy.Verdict, error) {
	r := c.Req
	peek := r.DryRun || explain
	var buf [8]eval
	evs := buf[:0]
	nblock := 0
	// Every key is built into one buffer, then cut from one string: one
	// allocation per request instead of one per limit.
	var kbuf [160]byte
	keys := kbuf[:0]
	for _, l := range ls {
		if !l.applies(c) {
			continue
		}
		subj, ok := l.subject(r)
		if !ok {
			continue
		}
		start := len(keys)
		keys = l.ks.AppendKey(keys, subj)
		ev := eval{l: l, subject: subj, keyAt: [2]int{start, len(keys)}, cost: l.cost(r)}
		if l.blocks() {
			// Blocking limits first, in config order.
			evs = append(evs, eval{})
			copy(evs[nblock+1:], evs[nblock:])
			evs[nblock] = ev
			nblock++
		} else {
			evs = append(evs, ev)
		}
	}
	if len(evs) == 0 {
		return policy.Verdict{}, nil
	}
	all := string(keys)
	for i := range evs {
		evs[i].key = all[evs[i].keyAt[0]:evs[i].keyAt[1]]
	}
	block, passive := evs[:nblock], evs[nblock:]
	now := k.now().UnixNano() // one clock reading for the key gauge

	deny := -1
	var err error
	switch {
	case len(block) == 0:
	case peek:
		for i := range block {
			if block[i].r, err = k.lm.Peek(ctx, block[i].key, block[i].l.lim, block[i].cost); err != nil {
				return policy.Verdict{}, err
			}
		}
	case len(block) == 1:
		// One limit: charge it at once (a denial charges nothing).
		if err = k.charge(ctx, &block[0], now); err != nil {
			return policy.Verdict{}, err
		}
	default:
		// All or nothing, one store operation per limit when all pass
		// (gcra.Limiter.AllowAll).
		var cbuf [8]gcra.Charge
		var rbuf [8]gcra.Result
		cs, rs := cbuf[:0], rbuf[:0]
		for i := range block {
			cs = append(cs, gcra.Charge{Key: block[i].key, Limit: block[i].l.lim, Cost: block[i].cost})
			rs = append(rs, gcra.Result{})
		}
		ok, err := k.lm.AllowAll(ctx, cs, rs)
		if err != nil {
			return policy.Verdict{}, err
		}
		for i := range block {
			block[i].r = rs[i]
			if ok {
				k.charged(&block[i], now)
			}
		}
	}
	for i := range block {
		if !block[i].r.Allowed && (deny < 0 || worse(block[i], block[deny])) {
			deny = i
		}
	}
	for i := range passive {
		ev := &passive[i]
		if deny >= 0 || peek {
			ev.r, err = k.lm.Peek(ctx, ev.key, ev.l.lim, ev.cost)
		} else {
			err = k.charge(ctx, ev, now)
		}
		if err != nil {
			return policy.Verdict{}, err
		}
	}

	if c.Notes != nil {
		for i := range evs {
			c.Notes.Add(NoteLimit, evs[i].note())
		}
	}
	if explain {
		return policy.Verdict{}, nil
	}
	var soft policy.Verdict
	for i := range passive {
		ev := &passive[i]
		if ev.r.Allowed {
			continue
		}
		if !r.DryRun {
			ev.l.over.Inc()
		}
		k.log(ctx, c, ev)
		if soft.Reason == "" {
			soft = policy.Verdict{Check: Name, Reason: ReasonObserved, Detail: ev.detail()}
			if ev.l.cfg.Mode == ModeEnforce {
				soft.Reason = ReasonLogged
			}
		}
	}
	if deny < 0 {
		return soft, nil
	}
	ev := &block[deny]
	v := ev.verdict()
	if !r.DryRun {
		if ev.r.Never && ev.l.cfg.Action != ActionHold {
			ev.l.rejected.Inc()
		} else {
			ev.l.over.Inc()
		}
	}
	k.log(ctx, c, ev)
	return v, nil
}

// charge runs Allow for ev, counts it and feeds the key gauge.
func (k *Check) charge(ctx context.Context, ev *eval, now int64) error {
	r, err := k.lm.Allow(ctx, ev.key, ev.l.lim, ev.cost)
	if err != nil {
		return err
	}
	ev.r = r
	if r.Allowed {
		k.charged(ev, now)
	}
	return nil
}

// charged counts an allowed, charged request and feeds the key gauge; now
// is the request's clock reading in Unix nanoseconds.
func (k *Check) charged(ev *eval, now int64) {
	ev.charged = true
	ev.l.allowed.Inc()
	if ev.cost > 0 {
		ev.l.keys.charged(now, ev.r.TAT-ev.cost*int64(ev.l.lim.Interval()), ev.r.TAT)
	}
}

// worse orders denials: a permanent one first, then hold, then the
// longest wait.
func worse(a, b eval) bool {
	ra, rb := a.severity(), b.severity()
	if ra != rb {
		return ra > rb
	}
	return a.r.RetryAfter > b.r.RetryAfter
}

func (ev eval) severity() int {
	switch {
	case ev.r.Never && ev.l.cfg.Action != ActionHold, ev.l.cfg.Action == ActionReject:
		return 3
	case ev.l.cfg.Action == ActionHold:
		return 2
	}
	return 1
}

// blocks reports whether the limit can change the answer.
func (l *limit) blocks() bool {
	return l.cfg.Mode == ModeEnforce && l.cfg.Action != ActionLog
}

// applies reports whether the limit's scope covers the request and no
// exemption takes it out.
//
// A client is new unless it is authenticated, or trusted (c.Facts.Trusted:
// exempt from greylisting by a client or sender list, on the
// auto-allowlist, or with a triplet that passed greylisting in an earlier
// transaction; the engine carries this from RCPT to the transaction's
// DATA and END-OF-MESSAGE requests), or exempt from this limit.
func (l *limit) applies(c *engine.Call) bool {
	r := c.Req
	switch l.cfg.Scope {
	case ScopeNew:
		if r.Authenticated() || c.Facts.Trusted {
			return false
		}
	case ScopeAuthenticated:
		if !r.Authenticated() {
			return false
		}
	}
	return !l.exempt(r)
}

func (l *limit) exempt(r *policy.Request) bool {
	if len(l.clients) > 0 && r.Client.IsValid() {
		ip := r.Client.Unmap()
		for _, p := range l.clients {
			if p.Contains(ip) {
				return true
			}
		}
	}
	if len(l.users) > 0 && r.SASLUsername != "" && l.users[strings.ToLower(r.SASLUsername)] {
		return true
	}
	if len(l.cfg.ExemptDomains) > 0 && r.Sender != "" {
		d := domainOf(r.Sender)
		for _, x := range l.cfg.ExemptDomains {
			if d == x || strings.HasSuffix(d, "."+x) {
				return true
			}
		}
	}
	return false
}

// verdict is the answer for a blocking limit that refused the request.
func (ev eval) verdict() policy.Verdict {
	l := ev.l
	v := policy.Verdict{Check: Name, Reason: ReasonOverLimit, Detail: ev.detail()}
	if ev.r.Never {
		v.Reason = ReasonOverBurst
		if l.cfg.Action == ActionHold {
			v.Action, v.Text = policy.Hold, ev.fill(l.cfg.NeverText)
			return v
		}
		// Waiting cannot help: a permanent reply, so the sender gets a
		// bounce now instead of after days of retries.
		v.Action, v.Text = policy.Reply, ev.fill(l.cfg.NeverText)
		switch l.cfg.Count {
		case CountBytes:
			v.Code, v.Enhanced = reply.CodeExceededStorage, reply.TooBigEnhanced
		case CountRecipients:
			v.Code, v.Enhanced = reply.CodeMailboxUnavailable, reply.TooManyRecipientsEnhanced
		default:
			v.Code, v.Enhanced = reply.CodeMailboxUnavailable, reply.RateLimitRejectEnhanced
		}
		return v
	}
	switch l.cfg.Action {
	case ActionHold:
		v.Action, v.Text = policy.Hold, ev.fill(l.cfg.Text)
	case ActionReject:
		v.Action, v.Code, v.Enhanced = policy.Reply, reply.CodeMailboxUnavailable, reply.RateLimitRejectEnhanced
		v.Text = ev.fill(l.cfg.Text)
	default:
		v.Action, v.Code, v.Enhanced = policy.Reply, reply.CodeMailboxBusy, reply.RateLimitEnhanced
		v.Text = ev.fill(l.cfg.Text)
		v.Wait = ev.r.RetryAfter
	}
	return v
}

// fill replaces the placeholders of a reply text.
func (ev eval) fill(text string) string {
	if !strings.Contains(text, "{") {
		return text
	}
	user := ""
	for _, k := range ev.l.cfg.Key {
		if k == KeySASLUsername {
			user = ev.subject
		}
	}
	if user == "" {
		user = ev.subject
	}
	return strings.NewReplacer(
		"{rate}", ev.l.cfg.Rate.String(),
		"{wait}", gcra.FormatWait(ev.r.RetryAfter),
		"{seconds}", strconv.FormatInt(ceilSeconds(ev.r.RetryAfter), 10),
		"{name}", ev.l.cfg.Name,
		"{key}", ev.subject,
		"{user}", user,
		"{cost}", strconv.FormatInt(ev.cost, 10),
		"{burst}", strconv.FormatInt(ev.l.lim.Burst(), 10),
	).Replace(text)
}

func ceilSeconds(d time.Duration) int64 {
	s := int64(d / time.Second)
	if d%time.Second > 0 {
		s++
	}
	return max(s, 1)
}

func (ev eval) detail() string {
	return "limit " + ev.l.cfg.Name + " key=" + ev.subject + " (" + ev.l.lim.String() + ", cost " + strconv.FormatInt(ev.cost, 10) + ")"
}

// note is the value of the limit's x_tempfail_limit= line: NAME
// key=SUBJECT remaining=N [retry_after=SECONDS | never=yes] [...].
func (ev eval) note() string {
	var b strings.Builder
	b.WriteString(ev.l.cfg.Name)
	b.WriteString(" key=")
	b.WriteString(ev.subject)
	b.WriteString(" remaining=")
	b.WriteString(strconv.FormatInt(ev.r.Remaining, 10))
	switch {
	case ev.r.Never:
		b.WriteString(" never=yes")
	case !ev.r.Allowed:
		b.WriteString(" retry_after=")
		b.WriteString(strconv.FormatInt(ceilSeconds(ev.r.RetryAfter), 10))
	}
	b.WriteString(" cost=")
	b.WriteString(strconv.FormatInt(ev.cost, 10))
	b.WriteString(" rate=")
	b.WriteString(ev.l.cfg.Rate.String())
	b.WriteString(" burst=")
	b.WriteString(strconv.FormatInt(ev.l.lim.Burst(), 10))
	b.WriteString(" scope=")
	b.WriteString(ev.l.cfg.Scope)
	b.WriteString(" action=")
	b.WriteString(ev.l.cfg.Action)
	if ev.l.cfg.Mode == ModeObserve {
		b.WriteString(" mode=observe")
	}
	return b.String()
}

// log writes one line for a request over a limit: at warn when an
// authenticated user is over quota (an admin should look: a compromised
// password sends like this), at info otherwise.
func (k *Check) log(ctx context.Context, c *engine.Call, ev *eval) {
	lg := c.Log
	if lg == nil {
		return
	}
	r := c.Req
	level := slog.LevelInfo
	if r.Authenticated() {
		level = slog.LevelWarn
	}
	if !lg.Enabled(ctx, level) {
		return
	}
	msg := "rate limit exceeded"
	action := ev.l.cfg.Action
	if ev.r.Never && action != ActionHold && action != ActionLog {
		action = "reject (over burst)"
	}
	if ev.l.cfg.Mode == ModeObserve {
		msg = "rate limit exceeded (observe mode: nothing done)"
	}
	attrs := []slog.Attr{
		slog.String("limit", ev.l.cfg.Name),
		slog.String("key", ev.subject),
		slog.String("mode", ev.l.cfg.Mode),
		slog.String("action", action),
		slog.String("rate", ev.l.lim.String()),
		slog.Int64("cost", ev.cost),
		slog.String("state", string(r.State)),
		slog.String("instance", r.Instance),
		slog.String("client", r.ClientAddress),
		slog.String("sender", r.Sender),
	}
	if r.SASLUsername != "" {
		attrs = append(attrs, slog.String("sasl_username", r.SASLUsername))
	}
	if !ev.r.Never {
		attrs = append(attrs, slog.Duration("retry_after", ev.r.RetryAfter))
	}
	if r.DryRun {
		attrs = append(attrs, slog.Bool("dry_run", true))
	}
	lg.LogAttrs(ctx, level, msg, attrs...)
}
