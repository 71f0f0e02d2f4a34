package ratelimit

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tempfail/tempfail/internal/checks/greylist"
	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/policy"
	gcra "github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/store"
	"github.com/tempfail/tempfail/internal/store/memstore"
)

// rig is an engine with (optionally) greylisting, then the rate-limit
// check, over one memstore and one fake clock.
type rig struct {
	t   *testing.T
	now time.Time
	st  *memstore.Store
	e   *engine.Engine
	m   *Metrics
	log *bytes.Buffer
}

func newRig(t *testing.T, withGreylist bool, limits ...Limit) *rig {
	t.Helper()
	cfg := Config{Enabled: true, Limits: limits}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC), log: &bytes.Buffer{}}
	clock := func() time.Time { return r.now }
	r.st = memstore.NewWithClock(clock)
	t.Cleanup(func() { r.st.Close() })
	r.m = NewMetrics(nil)
	var chain []engine.Check
	if withGreylist {
		gc := greylist.Defaults()
		gc.DefaultClients = false
		gc.Delay = 60e9
		chain = append(chain, greylist.New(gc, r.st, greylist.Exemptions{}, nil))
	}
	chain = append(chain, NewWithClock(cfg, r.st, r.m, clock))
	r.e = engine.New(engine.Options{Checks: chain, Now: clock,
		Logger: slog.New(slog.NewTextHandler(r.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	return r
}

func (r *rig) advance(d time.Duration) { r.now = r.now.Add(d) }

// req builds a request; zero fields get defaults.
type req struct {
	state                           policy.State
	client, sender, rcpt, sasl, ins string
	count                           int
	size                            int64
	dry                             bool
}

func (r *rig) ask(q req) policy.Verdict {
	r.t.Helper()
	v, _ := r.askNotes(q)
	return v
}

func (r *rig) askNotes(q req) (policy.Verdict, []policy.Attr) {
	r.t.Helper()
	if q.client == "" {
		q.client = "198.51.100.20"
	}
	if q.state == "" {
		q.state = policy.StateEndOfMessage
	}
	if q.sender == "" {
		q.sender = "alice@example.org"
	}
	if q.ins == "" {
		q.ins = "i" + r.now.Format("150405.000000000") + q.rcpt
	}
	ctx, notes := engine.WithNotes(context.Background())
	v := r.e.Decide(ctx, &policy.Request{
		Kind: "smtpd_access_policy", State: q.state,
		ClientAddress: q.client, Client: netip.MustParseAddr(q.client),
		Sender: q.sender, Recipient: q.rcpt, SASLUsername: q.sasl,
		Instance: q.ins, RcptCount: q.count, Size: q.size, DryRun: q.dry,
	})
	return v, notes.Attrs()
}

func lim(name string, key ...string) Limit {
	return Limit{Name: name, Key: key, Rate: gcra.Rate{Count: 2, Period: time.Hour}}
}

func (l Limit) with(f func(*Limit)) Limit { f(&l); return l }

func passes(v policy.Verdict) bool {
	return !v.Temporary() && v.Action != policy.Hold && v.Action != policy.Reply
}

// TestKeyKinds: each key kind counts separately what it should and lumps
// together what it should.
func TestKeyKinds(t *testing.T) {
	tests := []struct {
		key        []string
		state      string
		a, same, o req // a twice, then same (shares a's bucket) is over, other (a different bucket) passes
	}{
		{[]string{KeyClientAddress}, "", req{client: "192.0.2.1"}, req{client: "192.0.2.1", sender: "x@y.example"}, req{client: "192.0.2.2"}},
		{[]string{KeyClientNetwork}, "", req{client: "192.0.2.1"}, req{client: "192.0.2.77"}, req{client: "192.0.3.1"}},
		{[]string{KeyClientNetwork}, "", req{client: "2001:db8:1:2::1"}, req{client: "2001:db8:1:2:ffff::9"}, req{client: "2001:db8:1:3::1"}},
		{[]string{KeySender}, "", req{sender: "Alice@Example.org"}, req{sender: "prvs=1234abcd=alice@example.org", client: "192.0.2.9"}, req{sender: "bob@example.org"}},
		{[]string{KeySender}, "", req{sender: "bounce-123@lists.example"}, req{sender: "bounce-456@lists.example"}, req{sender: "other@lists.example"}},
		{[]string{KeySenderDomain}, "", req{sender: "a@example.org"}, req{sender: "b@EXAMPLE.org"}, req{sender: "a@example.com"}},
		{[]string{KeyRecipientDomain}, StateRcpt, req{state: policy.StateRcpt, rcpt: "a@example.net"}, req{state: policy.StateRcpt, rcpt: "b@example.net"}, req{state: policy.StateRcpt, rcpt: "a@example.com"}},
		{[]string{KeyRecipient}, StateRcpt, req{state: policy.StateRcpt, rcpt: "a@example.net"}, req{state: policy.StateRcpt, rcpt: "A@example.net"}, req{state: policy.StateRcpt, rcpt: "b@example.net"}},
		{[]string{KeySASLUsername}, "", req{sasl: "alice"}, req{sasl: "alice", client: "192.0.2.200"}, req{sasl: "bob"}},
		{[]string{KeyClientNetwork, KeySenderDomain}, "", req{client: "192.0.2.1", sender: "a@example.org"}, req{client: "192.0.2.2", sender: "b@example.org"}, req{client: "192.0.2.1", sender: "a@example.com"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.key, "+")+"/"+tt.a.client+tt.a.sender+tt.a.rcpt+tt.a.sasl, func(t *testing.T) {
			l := lim("l", tt.key...)
			if tt.state != "" {
				l.State, l.Count = tt.state, CountRecipients
			}
			r := newRig(t, false, l)
			for i := 0; i < 2; i++ {
				if v := r.ask(tt.a); !passes(v) {
					t.Fatalf("request %d refused: %+v", i+1, v)
				}
			}
			if v := r.ask(tt.same); passes(v) {
				t.Fatalf("same key not limited: %+v", v)
			}
			if v := r.ask(tt.o); !passes(v) {
				t.Fatalf("other key limited: %+v", v)
			}
		})
	}
}

// TestMissingKeyPartSkipsLimit: a request without the key's value (no
// sasl_username) is not counted by that limit.
func TestMissingKeyPartSkipsLimit(t *testing.T) {
	r := newRig(t, false, lim("u", KeySASLUsername).with(func(l *Limit) { l.Rate.Count = 1 }))
	for i := 0; i < 5; i++ {
		if v := r.ask(req{}); !passes(v) {
			t.Fatalf("unauthenticated request limited by a sasl_username limit: %+v", v)
		}
	}
}

// TestCountingUnits: messages count 1 at END-OF-MESSAGE, recipients count
// recipient_count (1 per RCPT at RCPT), bytes count size, requests 1.
func TestCountingUnits(t *testing.T) {
	tests := []struct {
		name  string
		count string
		state string
		rate  int64 // per hour, burst = rate
		reqs  []req
		want  []bool // passes
	}{
		{"messages count 1 whatever the recipients", CountMessages, StateEndOfMessage, 2,
			[]req{{count: 50}, {count: 50}, {count: 1}}, []bool{true, true, false}},
		{"messages at DATA", CountMessages, StateData, 1,
			[]req{{state: policy.StateData, count: 3}, {state: policy.StateData, count: 1}}, []bool{true, false}},
		{"recipients count recipient_count", CountRecipients, StateEndOfMessage, 10,
			[]req{{count: 4}, {count: 4}, {count: 4}, {count: 2}}, []bool{true, true, false, true}},
		{"recipients at RCPT count 1 each", CountRecipients, StateRcpt, 3,
			[]req{{state: policy.StateRcpt, rcpt: "a@example.net"}, {state: policy.StateRcpt, rcpt: "b@example.net"}, {state: policy.StateRcpt, rcpt: "c@example.net"}, {state: policy.StateRcpt, rcpt: "d@example.net"}},
			[]bool{true, true, true, false}},
		{"bytes count size", CountBytes, StateEndOfMessage, 1000,
			[]req{{size: 600}, {size: 300}, {size: 200}, {size: 100}}, []bool{true, true, false, true}},
		{"requests count 1", CountRequests, StateRcpt, 2,
			[]req{{state: policy.StateRcpt, rcpt: "a@example.net"}, {state: policy.StateRcpt, rcpt: "a@example.net"}, {state: policy.StateRcpt, rcpt: "a@example.net"}},
			[]bool{true, true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, false, lim("l", KeyClientAddress).with(func(l *Limit) {
				l.Count, l.State, l.Rate.Count = tt.count, tt.state, tt.rate
			}))
			for i, q := range tt.reqs {
				if got := passes(r.ask(q)); got != tt.want[i] {
					t.Fatalf("request %d (%+v): passes = %v, want %v", i+1, q, got, tt.want[i])
				}
			}
		})
	}
}

// TestScopes: all, new (not trusted, not authenticated), authenticated.
func TestScopes(t *testing.T) {
	one := func(scope string) Limit {
		return lim("l", KeyClientAddress).with(func(l *Limit) { l.Scope, l.Rate.Count = scope, 1; l.Action = ActionDefer })
	}
	tests := []struct {
		scope     string
		anon, sas bool // is an anonymous / an authenticated client limited on its 2nd message
	}{
		{ScopeAll, true, true},
		{ScopeNew, true, false},
		{ScopeAuthenticated, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.scope, func(t *testing.T) {
			r := newRig(t, false, one(tt.scope))
			r.ask(req{client: "192.0.2.1"})
			if got := !passes(r.ask(req{client: "192.0.2.1"})); got != tt.anon {
				t.Errorf("anonymous client limited = %v, want %v", got, tt.anon)
			}
			r.ask(req{client: "192.0.2.2", sasl: "alice"})
			if got := !passes(r.ask(req{client: "192.0.2.2", sasl: "alice"})); got != tt.sas {
				t.Errorf("authenticated client limited = %v, want %v", got, tt.sas)
			}
		})
	}
}

// TestActions: defer, hold, reject, log, and their replies.
func TestActions(t *testing.T) {
	tests := []struct {
		action, scope string
		sasl          string
		want          string // the verdict's line on the 3rd message
		outcome       string
	}{
		{ActionDefer, ScopeNew, "", "450 4.7.1 Rate limit for new clients exceeded (2/h), try again in 30 minutes", OutcomeLimited},
		{ActionDefer, ScopeAuthenticated, "alice", "450 4.7.1 Throttled: sending quota for alice exceeded (2/h), try again in 30 minutes", OutcomeLimited},
		{"", ScopeAuthenticated, "alice", "HOLD sending quota for alice exceeded (2/h), held for review by limit l", OutcomeHeld},
		{ActionHold, ScopeAll, "", "HOLD rate limit l exceeded by 198.51.100.20 (2/h), held for review", OutcomeHeld},
		{ActionReject, ScopeAll, "", "550 5.7.1 Rate limit exceeded (2/h)", OutcomeRejected},
		{ActionLog, ScopeAll, "", "DUNNO", OutcomeLogged},
		{"", ScopeAll, "", "450 4.7.1 Rate limit exceeded (2/h), try again in 30 minutes", OutcomeLimited},
	}
	for _, tt := range tests {
		t.Run(tt.action+"/"+tt.scope, func(t *testing.T) {
			key := KeyClientAddress
			if tt.sasl != "" {
				key = KeySASLUsername
			}
			r := newRig(t, false, lim("l", key).with(func(l *Limit) { l.Action, l.Scope = tt.action, tt.scope }))
			q := req{sasl: tt.sasl}
			r.ask(q)
			r.ask(q)
			v := r.ask(q)
			if v.Line() != tt.want {
				t.Fatalf("got %q, want %q", v.Line(), tt.want)
			}
			if got := testutil.ToFloat64(r.m.Decisions.WithLabelValues("l", tt.outcome)); got != 1 {
				t.Errorf("outcome %s counted %v times, want 1", tt.outcome, got)
			}
			if got := testutil.ToFloat64(r.m.Decisions.WithLabelValues("l", OutcomeAllowed)); got != 2 {
				t.Errorf("allowed counted %v times, want 2", got)
			}
			line := "msg=\"rate limit exceeded\" limit=l"
			if !strings.Contains(r.log.String(), line) {
				t.Errorf("no log line %q:\n%s", line, r.log)
			}
			if tt.sasl != "" && !strings.Contains(r.log.String(), "level=WARN msg=\"rate limit exceeded\"") {
				t.Errorf("user over quota not logged at warn:\n%s", r.log)
			}
			if tt.sasl != "" && !strings.Contains(r.log.String(), "sasl_username=alice") {
				t.Errorf("log line does not name the user:\n%s", r.log)
			}
		})
	}
}

// TestWaitIsReal: the wait in the reply is GCRA's, rounded up.
func TestWaitIsReal(t *testing.T) {
	r := newRig(t, false, lim("l", KeyClientAddress).with(func(l *Limit) { l.Scope = ScopeNew }))
	r.ask(req{})
	r.advance(3 * time.Minute)
	r.ask(req{})
	r.advance(time.Minute)
	// Bucket: first unit drains at 30m after t0; now is t0+4m: 26 minutes.
	v := r.ask(req{})
	if want := "450 4.7.1 Rate limit for new clients exceeded (2/h), try again in 26 minutes"; v.Line() != want {
		t.Fatalf("got %q, want %q", v.Line(), want)
	}
	if v.Wait != 26*time.Minute {
		t.Fatalf("Wait = %v", v.Wait)
	}
	r.advance(26 * time.Minute)
	if v := r.ask(req{}); !passes(v) {
		t.Fatalf("retry after the wait refused: %+v", v)
	}
}

// TestCostAboveBurst: a message that alone exceeds the burst can never
// pass: a permanent reply that says so, not a deferral forever.
func TestCostAboveBurst(t *testing.T) {
	tests := []struct {
		count, action string
		q             req
		want          string
	}{
		{CountRecipients, ActionDefer, req{count: 5}, "550 5.5.3 Message has 5 recipients, more than the sending limit allows at once (2 per 2/h); it can never pass, send it in smaller parts"},
		{CountBytes, ActionDefer, req{size: 3}, "552 5.3.4 Message of 3 bytes is larger than the sending limit allows at once (2 bytes per 2/h); it can never pass"},
		{CountRecipients, ActionHold, req{count: 5}, "HOLD Message has 5 recipients, more than the sending limit allows at once (2 per 2/h); it can never pass, send it in smaller parts"},
		{CountRecipients, ActionLog, req{count: 5}, "DUNNO"},
	}
	for _, tt := range tests {
		t.Run(tt.count+"/"+tt.action, func(t *testing.T) {
			r := newRig(t, false, lim("l", KeyClientAddress).with(func(l *Limit) { l.Count, l.Action = tt.count, tt.action }))
			v := r.ask(tt.q)
			if v.Line() != tt.want {
				t.Fatalf("got %q, want %q", v.Line(), tt.want)
			}
			if tt.action != ActionLog && v.Reason != ReasonOverBurst {
				t.Fatalf("reason %q", v.Reason)
			}
			// The bucket was not touched: a small message still passes.
			if v := r.ask(req{count: 1, size: 1}); !passes(v) {
				t.Fatalf("small message after the oversized one refused: %+v", v)
			}
		})
	}
}

// TestExemptions: exempt_clients, exempt_users, exempt_domains.
func TestExemptions(t *testing.T) {
	l := lim("l", KeyClientNetwork).with(func(l *Limit) {
		l.Rate.Count = 1
		l.ExemptClients = []string{"192.0.2.0/25", "2001:db8::1"}
		l.ExemptUsers = []string{"Relay-User"}
		l.ExemptDomains = []string{"partner.example"}
	})
	tests := []struct {
		name   string
		q      req
		exempt bool
	}{
		{"exempt CIDR", req{client: "192.0.2.5"}, true},
		{"exempt address", req{client: "2001:db8::1"}, true},
		{"outside the CIDR", req{client: "192.0.2.200"}, false},
		{"exempt user, any case", req{client: "198.51.100.1", sasl: "relay-user"}, true},
		{"other user", req{client: "198.51.100.2", sasl: "alice"}, false},
		{"exempt domain", req{client: "198.51.100.3", sender: "a@partner.example"}, true},
		{"exempt subdomain", req{client: "198.51.100.4", sender: "a@mx.partner.example"}, true},
		{"look-alike domain", req{client: "198.51.100.5", sender: "a@evilpartner.example"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, false, l)
			r.ask(tt.q)
			if got := passes(r.ask(tt.q)); got != tt.exempt {
				t.Fatalf("second message passes = %v, want %v (exempt)", got, tt.exempt)
			}
		})
	}
}

// TestObserveMode counts and logs, never changes the answer.
func TestObserveMode(t *testing.T) {
	r := newRig(t, false, lim("watch", KeyClientAddress).with(func(l *Limit) { l.Mode = ModeObserve; l.Rate.Count = 1 }))
	r.ask(req{})
	v := r.ask(req{})
	if v.Action != policy.Dunno || v.Reason != ReasonObserved || v.Check != Name {
		t.Fatalf("observe mode changed the answer or said nothing: %+v", v)
	}
	if got := testutil.ToFloat64(r.m.Decisions.WithLabelValues("watch", OutcomeObserved)); got != 1 {
		t.Fatalf("observed = %v", got)
	}
	for _, s := range []string{"observe mode", "limit=watch", "key=198.51.100.20", "action=defer"} {
		if !strings.Contains(r.log.String(), s) {
			t.Errorf("log lacks %q:\n%s", s, r.log)
		}
	}
}

// TestDryRunDoesNotConsume: `tempfail query` requests peek only.
func TestDryRunDoesNotConsume(t *testing.T) {
	r := newRig(t, false, lim("l", KeyClientAddress), lim("w", KeySender).with(func(l *Limit) { l.Mode = ModeObserve }))
	for i := 0; i < 5; i++ {
		v, notes := r.askNotes(req{dry: true})
		if !passes(v) {
			t.Fatalf("dry run %d refused: %+v", i, v)
		}
		if len(notes) != 2 || !strings.HasPrefix(notes[0].Value, "l key=198.51.100.20 remaining=1 ") {
			t.Fatalf("notes: %+v", notes)
		}
	}
	if n := r.st.Len(); n != 0 {
		t.Fatalf("dry runs wrote %d keys", n)
	}
	r.ask(req{})
	r.ask(req{})
	v, notes := r.askNotes(req{dry: true})
	if passes(v) || !strings.Contains(notes[0].Value, "remaining=0 retry_after=1800 ") {
		t.Fatalf("dry run over the limit: %+v %+v", v, notes)
	}
	if got := testutil.ToFloat64(r.m.Decisions.WithLabelValues("l", OutcomeLimited)); got != 0 {
		t.Fatalf("a dry run was counted as limited")
	}
}

// TestNewClientsAndGreylisting: passing greylisting in this transaction
// keeps a client new; a triplet that passed in an earlier transaction
// makes it established, and the engine carries that from RCPT to
// END-OF-MESSAGE of the same transaction.
func TestNewClientsAndGreylisting(t *testing.T) {
	r := newRig(t, true, lim("new", KeyClientAddress).with(func(l *Limit) { l.Scope = ScopeNew; l.Rate.Count = 1 }))
	msg := func(ins string) (rcpt, eom policy.Verdict) {
		rcpt = r.ask(req{state: policy.StateRcpt, rcpt: "bob@example.net", ins: ins})
		if rcpt.Temporary() {
			return rcpt, policy.Verdict{}
		}
		return rcpt, r.ask(req{ins: ins, count: 1})
	}
	if v, _ := msg("t1"); v.Reason != greylist.ReasonNewTriplet {
		t.Fatalf("first attempt: %+v", v)
	}
	r.advance(2 * time.Minute)
	rc, eom := msg("t2")
	if rc.Reason != greylist.ReasonPassed || !passes(eom) {
		t.Fatalf("retry: rcpt %+v eom %+v", rc, eom)
	}
	// The same client, new triplet, passes greylisting later... still new:
	// its first message used the budget of 1.
	r.advance(time.Minute)
	r.ask(req{state: policy.StateRcpt, rcpt: "carol@example.net", ins: "t3"})
	r.advance(2 * time.Minute)
	rc, eom = msg2(r, "carol@example.net", "t4")
	if rc.Reason != greylist.ReasonPassed || passes(eom) {
		t.Fatalf("a client that passed greylisting in this transaction was treated as established: rcpt %+v eom %+v", rc, eom)
	}
	// A later message of the known triplet: established, no new-client limit.
	r.advance(time.Minute)
	rc, eom = msg("t5")
	if rc.Reason != greylist.ReasonKnown || !passes(eom) || eom.Check != "" {
		t.Fatalf("known triplet: rcpt %+v eom %+v", rc, eom)
	}
	// Trust is per transaction: an END-OF-MESSAGE of another transaction
	// (no RCPT seen) is new again and over the limit.
	if v := r.ask(req{ins: "t6", count: 1}); passes(v) {
		t.Fatalf("trust leaked into another transaction: %+v", v)
	}
}

func msg2(r *rig, rcpt, ins string) (policy.Verdict, policy.Verdict) {
	rc := r.ask(req{state: policy.StateRcpt, rcpt: rcpt, ins: ins})
	return rc, r.ask(req{ins: ins, count: 1})
}

// TestNewWithoutGreylisting: with greylisting off, new = not exempt and
// not authenticated.
func TestNewWithoutGreylisting(t *testing.T) {
	r := newRig(t, false, lim("new", KeyClientAddress).with(func(l *Limit) {
		l.Scope, l.Rate.Count, l.ExemptClients = ScopeNew, 1, []string{"192.0.2.0/24"}
	}))
	for _, q := range []req{{client: "192.0.2.9"}, {client: "198.51.100.1", sasl: "alice"}} {
		r.ask(q)
		if v := r.ask(q); !passes(v) {
			t.Fatalf("%+v treated as new: %+v", q, v)
		}
	}
	r.ask(req{client: "198.51.100.1"})
	if v := r.ask(req{client: "198.51.100.1"}); passes(v) {
		t.Fatal("anonymous client not limited")
	}
}

// TestSeveralLimitsChargeTogether: a request refused by one limit is not
// counted by the others.
func TestSeveralLimitsChargeTogether(t *testing.T) {
	r := newRig(t, false,
		lim("wide", KeyClientNetwork).with(func(l *Limit) { l.Rate.Count = 10 }),
		lim("narrow", KeyClientAddress).with(func(l *Limit) { l.Rate.Count = 1 }))
	r.ask(req{})
	for i := 0; i < 5; i++ {
		if v := r.ask(req{}); passes(v) || !strings.Contains(v.Detail, "narrow") {
			t.Fatalf("%+v", v)
		}
	}
	_, notes := r.askNotes(req{dry: true, client: "198.51.100.21"})
	if !strings.HasPrefix(notes[0].Value, "wide key=198.51.100.0/24 remaining=8 ") {
		t.Fatalf("refused requests were charged to the wide limit: %+v", notes)
	}
}

// TestExplainWhenGreylistingDefers: `tempfail query` sees the limits even
// when greylisting ended the chain, and nothing is charged.
func TestExplainWhenGreylistingDefers(t *testing.T) {
	r := newRig(t, true, lim("rcpts", KeyClientNetwork).with(func(l *Limit) { l.State, l.Count = StateRcpt, CountRecipients }))
	v, notes := r.askNotes(req{state: policy.StateRcpt, rcpt: "bob@example.net"})
	if v.Check != greylist.Name || len(notes) != 1 || !strings.HasPrefix(notes[0].Value, "rcpts key=198.51.100.0/24 remaining=1 ") {
		t.Fatalf("verdict %+v notes %+v", v, notes)
	}
	_, notes = r.askNotes(req{state: policy.StateRcpt, rcpt: "bob@example.net", dry: true})
	if !strings.Contains(notes[0].Value, "remaining=1 ") {
		t.Fatalf("explain charged the bucket: %+v", notes)
	}
}

// failing is a store whose every operation fails.
type failing struct{ *memstore.Store }

var errDisk = errors.New("disk gone")

func (failing) Get(context.Context, string) ([]byte, time.Time, error) {
	return nil, time.Time{}, errDisk
}

func (failing) Update(context.Context, string, store.UpdateFunc) error { return errDisk }

// TestStoreErrorIsOnError: store trouble is the engine's on_error answer.
func TestStoreErrorIsOnError(t *testing.T) {
	cfg := Config{Enabled: true, Limits: []Limit{lim("l", KeyClientAddress)}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var st store.Store = failing{memstore.New()}
	e := engine.New(engine.Options{Checks: []engine.Check{New(cfg, st, nil)}})
	v := e.Decide(context.Background(), &policy.Request{State: policy.StateEndOfMessage, Client: netip.MustParseAddr("192.0.2.1"), ClientAddress: "192.0.2.1"})
	if v.Action != policy.Dunno || v.Reason != "internal_error" || v.Check != Name {
		t.Fatalf("got %+v", v)
	}
}

// TestKeyGauge: the gauge follows charges and expiry.
func TestKeyGauge(t *testing.T) {
	r := newRig(t, false, lim("l", KeyClientAddress))
	for _, c := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.1"} {
		r.ask(req{client: c})
	}
	g := r.m.gauges["l"]
	if n := g.count(r.now.UnixNano()); n != 2 {
		t.Fatalf("keys = %d, want 2", n)
	}
	r.advance(31 * time.Minute) // 192.0.2.2's bucket (one unit: 30m) is empty
	if n := g.count(r.now.UnixNano()); n != 1 {
		t.Fatalf("keys after 31m = %d, want 1", n)
	}
	r.advance(31 * time.Minute)
	if n := g.count(r.now.UnixNano()); n != 0 {
		t.Fatalf("keys after 62m = %d, want 0", n)
	}
}
