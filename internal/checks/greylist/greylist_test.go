package greylist

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/store"
	"github.com/tempfail/tempfail/internal/store/memstore"
)

// rig is an engine with only the greylisting check and a settable clock.
type rig struct {
	t   *testing.T
	now time.Time
	e   *engine.Engine
	n   int
}

func newRig(t *testing.T, cfg Config, ex Exemptions) *rig {
	t.Helper()
	return newRigOn(t, cfg, ex, nil)
}

// newRigOn is newRig with the store wrapped by wrap (nil: as it is).
func newRigOn(t *testing.T, cfg Config, ex Exemptions, wrap func(store.Store) store.Store) *rig {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	st := memstore.NewWithClock(func() time.Time { return r.now })
	t.Cleanup(func() { st.Close() })
	var s store.Store = st
	if wrap != nil {
		s = wrap(st)
	}
	r.e = engine.New(engine.Options{
		Checks: []engine.Check{New(cfg, s, ex, nil)},
		Now:    func() time.Time { return r.now },
	})
	return r
}

// casOnly hides the store's Update, as a store over the network (Redis)
// has none: the check then takes its Get + CompareAndSwap path.
type casOnly struct{ store.Store }

func (r *rig) advance(d time.Duration) { r.now = r.now.Add(d) }

type req struct {
	client, name, sender, rcpt, sasl, instance string
	state                                      policy.State
}

func (r *rig) ask(q req) policy.Verdict {
	r.t.Helper()
	if q.client == "" {
		q.client = "198.51.100.20"
	}
	if q.state == "" {
		q.state = policy.StateRcpt
	}
	if q.instance == "" {
		r.n++
		q.instance = "inst" + time.Duration(r.n).String()
	}
	return r.e.Decide(context.Background(), &policy.Request{
		Kind: "smtpd_access_policy", State: q.state,
		ClientAddress: q.client, Client: netip.MustParseAddr(q.client),
		ClientName: q.name, Sender: q.sender, Recipient: q.rcpt,
		SASLUsername: q.sasl, Instance: q.instance,
	})
}

func testConfig() Config {
	c := Defaults()
	c.DefaultClients = false
	return c
}

func TestTiming(t *testing.T) {
	type step struct {
		after  time.Duration // advance the clock first
		client string
		want   string // action line
		reason string
	}
	first := req{sender: "alice@example.org", rcpt: "bob@example.net"}
	tests := []struct {
		name  string
		steps []step
	}{
		{"first sight is deferred with the full delay", []step{
			{0, "", "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds", ReasonNewTriplet},
		}},
		{"early retry is told the real time left", []step{
			{0, "", "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds", ReasonNewTriplet},
			{120 * time.Second, "", "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 180 seconds", ReasonRetryTooEarly},
			{179 * time.Second, "", "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 1 seconds", ReasonRetryTooEarly},
		}},
		{"retry after the delay passes with the header, then is known", []step{
			{0, "", "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds", ReasonNewTriplet},
			{301 * time.Second, "", "PREPEND X-Greylist: delayed 301 seconds by tempfail", ReasonPassed},
			{time.Minute, "", "DUNNO", ReasonKnown},
			{30 * 24 * time.Hour, "", "DUNNO", ReasonKnown},
		}},
		{"same /24 matches, other /24 does not", []step{
			{0, "198.51.100.20", "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds", ReasonNewTriplet},
			{400 * time.Second, "198.51.100.77", "PREPEND X-Greylist: delayed 400 seconds by tempfail", ReasonPassed},
			{0, "203.0.113.5", "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds", ReasonNewTriplet},
		}},
		{"retry outside the window starts over", []step{
			{0, "", "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds", ReasonNewTriplet},
			{49 * time.Hour, "", "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds", ReasonNewTriplet},
		}},
		{"passed triplet is forgotten after max age", []step{
			{0, "", "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds", ReasonNewTriplet},
			{301 * time.Second, "", "PREPEND X-Greylist: delayed 301 seconds by tempfail", ReasonPassed},
			{36 * 24 * time.Hour, "", "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds", ReasonNewTriplet},
		}},
	}
	stores := []struct {
		name string
		wrap func(store.Store) store.Store
	}{
		{"update", nil},
		{"get+cas", func(s store.Store) store.Store { return casOnly{s} }},
	}
	for _, tt := range tests {
		for _, st := range stores {
			t.Run(st.name+"/"+tt.name, func(t *testing.T) {
				cfg := testConfig()
				cfg.AutoAllowlist = 0
				r := newRigOn(t, cfg, Exemptions{}, st.wrap)
				for i, s := range tt.steps {
					r.advance(s.after)
					q := first
					q.client = s.client
					v := r.ask(q)
					if v.Line() != s.want || v.Reason != s.reason {
						t.Fatalf("step %d: got %q (%s), want %q (%s)", i, v.Line(), v.Reason, s.want, s.reason)
					}
				}
			})
		}
	}
}

func TestExpiredEntriesViaStoreTTL(t *testing.T) {
	// The store's own expiry must agree with the rules: a waiting triplet
	// expires with the retry window even if nothing asks again.
	cfg := testConfig()
	r := newRig(t, cfg, Exemptions{})
	q := req{sender: "a@example.org", rcpt: "b@example.net"}
	r.ask(q)
	r.advance(cfg.RetryWindow.D() + time.Second)
	if v := r.ask(q); v.Reason != ReasonNewTriplet {
		t.Fatalf("got %s", v.Reason)
	}
}

func TestHeaderOncePerTransaction(t *testing.T) {
	r := newRig(t, testConfig(), Exemptions{})
	for _, rcpt := range []string{"b1@example.net", "b2@example.net"} {
		r.ask(req{sender: "a@example.org", rcpt: rcpt})
	}
	r.advance(10 * time.Minute)
	v1 := r.ask(req{sender: "a@example.org", rcpt: "b1@example.net", instance: "tx1"})
	v2 := r.ask(req{sender: "a@example.org", rcpt: "b2@example.net", instance: "tx1"})
	if v1.Action != policy.Prepend || v2.Action != policy.Dunno || v2.Reason != ReasonPassed {
		t.Fatalf("got %q / %q %s", v1.Line(), v2.Line(), v2.Reason)
	}
}

func TestNoHeaderOption(t *testing.T) {
	cfg := testConfig()
	cfg.AddHeader = false
	r := newRig(t, cfg, Exemptions{})
	q := req{sender: "a@example.org", rcpt: "b@example.net"}
	r.ask(q)
	r.advance(6 * time.Minute)
	if v := r.ask(q); v.Line() != "DUNNO" || v.Reason != ReasonPassed {
		t.Fatalf("got %q %s", v.Line(), v.Reason)
	}
}

func TestCustomText(t *testing.T) {
	cfg := testConfig()
	cfg.Text = "Greylisting in progress, retry after {seconds} seconds."
	r := newRig(t, cfg, Exemptions{})
	v := r.ask(req{sender: "a@example.org", rcpt: "b@example.net"})
	if v.Line() != "DEFER_IF_PERMIT 4.2.0 Greylisting in progress, retry after 300 seconds." {
		t.Fatalf("got %q", v.Line())
	}
}

func TestSenderNormalisationSharesKey(t *testing.T) {
	r := newRig(t, testConfig(), Exemptions{})
	r.ask(req{sender: "prvs=1111aaaa11=Bounce-1001@lists.example.org", rcpt: "b@example.net"})
	r.advance(6 * time.Minute)
	v := r.ask(req{sender: "prvs=2222bbbb22=bounce-1002@lists.example.org", rcpt: "b@example.net"})
	if v.Reason != ReasonPassed {
		t.Fatalf("BATV/VERP variants did not share a key: %s", v.Reason)
	}
}

func TestAutoAllowlist(t *testing.T) {
	cfg := testConfig()
	cfg.AutoAllowlist = 3
	r := newRig(t, cfg, Exemptions{})
	passes := 0
	for i := 0; passes < 3; i++ {
		rcpt := "rcpt" + string(rune('a'+i)) + "@example.net"
		q := req{sender: "news@example.org", rcpt: rcpt}
		if v := r.ask(q); v.Reason != ReasonNewTriplet {
			t.Fatalf("round %d: want new triplet, got %s", i, v.Reason)
		}
		r.advance(6 * time.Minute)
		if v := r.ask(q); v.Reason != ReasonPassed {
			t.Fatalf("round %d: want pass, got %s", i, v.Reason)
		}
		passes++
		if passes < 3 {
			// Passes inside the same hour count once only.
			r.ask(req{sender: "other@example.org", rcpt: rcpt})
			r.advance(6 * time.Minute)
			r.ask(req{sender: "other@example.org", rcpt: rcpt})
			r.advance(time.Hour)
		}
	}
	// Now any new triplet from that /24 goes straight through.
	v := r.ask(req{client: "198.51.100.99", sender: "brand-new@example.com", rcpt: "x@example.net"})
	if v.Action != policy.Dunno || v.Reason != ReasonAutoAllowlist {
		t.Fatalf("got %q %s", v.Line(), v.Reason)
	}
	// ...but not from elsewhere.
	if v := r.ask(req{client: "203.0.113.1", sender: "brand-new@example.com", rcpt: "x@example.net"}); v.Reason != ReasonNewTriplet {
		t.Fatalf("other network: %s", v.Reason)
	}
	// It expires with max age.
	r.advance(cfg.MaxAge.D() + time.Hour)
	if v := r.ask(req{client: "198.51.100.99", sender: "brand-new2@example.com", rcpt: "x@example.net"}); v.Reason != ReasonNewTriplet {
		t.Fatalf("after max age: %s", v.Reason)
	}
}

func TestAutoAllowlistCountsOncePerHour(t *testing.T) {
	cfg := testConfig()
	cfg.AutoAllowlist = 2
	r := newRig(t, cfg, Exemptions{})
	for i := 0; i < 5; i++ {
		q := req{sender: "s@example.org", rcpt: "r" + string(rune('a'+i)) + "@example.net"}
		r.ask(q)
		r.advance(6 * time.Minute)
		r.ask(q)
	}
	// five passes within 30 minutes count as one
	if v := r.ask(req{sender: "new@example.org", rcpt: "z@example.net"}); v.Reason != ReasonNewTriplet {
		t.Fatalf("allowlisted too early: %s", v.Reason)
	}
}

type fakeClients map[string]bool

func (f fakeClients) Match(ip netip.Addr, name string) (string, bool) {
	if f[ip.String()] {
		return ip.String(), true
	}
	if name != "" && f[name] {
		return name, true
	}
	return "", false
}

type fakeAddrs map[string]bool

func (f fakeAddrs) Match(a string) (string, bool) {
	a = strings.ToLower(a)
	if f[a] {
		return a, true
	}
	if i := strings.IndexByte(a, '@'); i >= 0 {
		if f[a[:i+1]] {
			return a[:i+1], true
		}
		if f[a[i+1:]] {
			return a[i+1:], true
		}
	}
	return "", false
}

func TestExemptions(t *testing.T) {
	ex := Exemptions{
		Clients:    fakeClients{"192.0.2.7": true, "mail.trusted.example": true},
		Senders:    fakeAddrs{"partner.example": true, "billing@vendor.example": true},
		Recipients: fakeAddrs{"postmaster@": true, "abuse@": true},
	}
	tests := []struct {
		name   string
		q      req
		reason string
	}{
		{"authenticated", req{sasl: "alice", sender: "a@x.example", rcpt: "b@example.net"}, ReasonExemptSASL},
		{"client ip", req{client: "192.0.2.7", sender: "a@x.example", rcpt: "b@example.net"}, ReasonExemptClient},
		{"verified client name", req{name: "mail.trusted.example", sender: "a@x.example", rcpt: "b@example.net"}, ReasonExemptClient},
		{"unknown name never matches", req{name: "unknown", sender: "a@x.example", rcpt: "b@example.net"}, ReasonNewTriplet},
		{"sender domain", req{sender: "Someone@Partner.example", rcpt: "b@example.net"}, ReasonExemptSender},
		{"BATV-wrapped sender", req{sender: "prvs=0123abcd45=billing@vendor.example", rcpt: "b@example.net"}, ReasonExemptSender},
		{"postmaster", req{sender: "a@x.example", rcpt: "postmaster@example.net"}, ReasonExemptRecipient},
		{"abuse", req{sender: "a@x.example", rcpt: "Abuse@example.net"}, ReasonExemptRecipient},
		{"nobody exempt", req{sender: "a@x.example", rcpt: "b@example.net"}, ReasonNewTriplet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, testConfig(), ex)
			v := r.ask(tt.q)
			if v.Reason != tt.reason {
				t.Fatalf("got %q %s, want reason %s", v.Line(), v.Reason, tt.reason)
			}
			if tt.reason != ReasonNewTriplet && v.Action != policy.Dunno {
				t.Fatalf("exempt request got action %q", v.Line())
			}
		})
	}
}

func TestUnverifiedReverseNameIgnored(t *testing.T) {
	ex := Exemptions{Clients: fakeClients{"mail.trusted.example": true}}
	r := newRig(t, testConfig(), ex)
	v := r.e.Decide(context.Background(), &policy.Request{
		State: policy.StateRcpt, Client: netip.MustParseAddr("203.0.113.9"),
		ClientName: "unknown", ReverseClientName: "mail.trusted.example",
		Sender: "a@x.example", Recipient: "b@example.net",
	})
	if v.Reason != ReasonNewTriplet {
		t.Fatalf("reverse_client_name was trusted: %s", v.Reason)
	}
}

func TestDeferAtData(t *testing.T) {
	cfg := testConfig()
	cfg.DeferAt = "data"
	r := newRig(t, cfg, Exemptions{})
	// r1 already passed earlier.
	r.ask(req{sender: "a@example.org", rcpt: "r1@example.net"})
	r.advance(2 * time.Minute)
	// A transaction: r1 waiting 180 s more, r2 new (300 s), both let through
	// at RCPT, whole message deferred at DATA with the longer wait.
	for _, rcpt := range []string{"r1@example.net", "r2@example.net"} {
		v := r.ask(req{sender: "a@example.org", rcpt: rcpt, instance: "tx"})
		if v.Action != policy.Dunno || v.Reason != ReasonDeferredToData {
			t.Fatalf("RCPT %s: %q %s", rcpt, v.Line(), v.Reason)
		}
	}
	v := r.ask(req{state: policy.StateData, instance: "tx", sender: "a@example.org"})
	if v.Line() != "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds" || v.Reason != ReasonGreylistedData {
		t.Fatalf("DATA: %q %s", v.Line(), v.Reason)
	}
	// After the delay the retry passes for both, and DATA is clean.
	r.advance(301 * time.Second)
	for _, rcpt := range []string{"r1@example.net", "r2@example.net"} {
		r.ask(req{sender: "a@example.org", rcpt: rcpt, instance: "tx2"})
	}
	if v := r.ask(req{state: policy.StateData, instance: "tx2"}); v.Action != policy.Dunno {
		t.Fatalf("DATA after delay: %q", v.Line())
	}
	// A transaction in which nothing is greylisted passes DATA.
	if v := r.ask(req{state: policy.StateData, instance: "tx3"}); v.Action != policy.Dunno {
		t.Fatalf("clean DATA: %q", v.Line())
	}
}

func TestPendingCap(t *testing.T) {
	cfg := testConfig()
	cfg.MaxPendingPerNetwork = 3
	r := newRig(t, cfg, Exemptions{})
	for i := 0; i < 3; i++ {
		if v := r.ask(req{sender: "spam@x.example", rcpt: "r" + string(rune('a'+i)) + "@example.net"}); v.Reason != ReasonNewTriplet {
			t.Fatalf("%d: %s", i, v.Reason)
		}
	}
	q := req{sender: "spam@x.example", rcpt: "rz@example.net"}
	v := r.ask(q)
	if !v.Temporary() || v.Reason != ReasonPendingCap {
		t.Fatalf("over cap: %q %s", v.Line(), v.Reason)
	}
	// Not stored: a retry is still "new".
	r.advance(6 * time.Minute)
	if v := r.ask(q); v.Reason != ReasonPendingCap {
		t.Fatalf("capped triplet was stored: %s", v.Reason)
	}
	// Another network is unaffected.
	if v := r.ask(req{client: "203.0.113.1", sender: "a@b.example", rcpt: "c@example.net"}); v.Reason != ReasonNewTriplet {
		t.Fatalf("other network: %s", v.Reason)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	r := newRig(t, testConfig(), Exemptions{})
	dry := &policy.Request{State: policy.StateRcpt, Client: netip.MustParseAddr("198.51.100.20"),
		Sender: "a@example.org", Recipient: "b@example.net", DryRun: true}
	for i := 0; i < 2; i++ {
		if v := r.e.Decide(context.Background(), dry); v.Reason != ReasonNewTriplet {
			t.Fatalf("dry run %d: %s", i, v.Reason)
		}
		r.advance(10 * time.Minute)
	}
	// The real first attempt is still first.
	if v := r.ask(req{sender: "a@example.org", rcpt: "b@example.net"}); v.Reason != ReasonNewTriplet {
		t.Fatalf("after dry runs: %s", v.Reason)
	}
}

func TestOtherStatesIgnored(t *testing.T) {
	r := newRig(t, testConfig(), Exemptions{})
	for _, s := range []policy.State{policy.StateConnect, policy.StateMail, policy.StateData, policy.StateEndOfMessage} {
		if v := r.ask(req{state: s, sender: "a@example.org"}); v.Action != policy.Dunno || v.Check != "" {
			t.Fatalf("%s: %q %s/%s", s, v.Line(), v.Check, v.Reason)
		}
	}
}

func TestTrustedFact(t *testing.T) {
	cfg := testConfig()
	st := memstore.New()
	g := New(cfg, st, Exemptions{}, nil)
	now := time.Unix(1_800_000_000, 0)
	call := func() *engine.Call {
		return &engine.Call{Facts: &engine.Facts{}, Now: now, Req: &policy.Request{
			State: policy.StateRcpt, Client: netip.MustParseAddr("198.51.100.1"),
			Sender: "a@example.org", Recipient: "b@example.net"}}
	}
	c := call()
	g.Check(context.Background(), c)
	if c.Facts.Trusted {
		t.Fatal("new client trusted")
	}
	// Passing greylisting in this transaction does not make the client
	// established: the rate limits for new clients must still apply.
	now = now.Add(time.Hour)
	c = call()
	if v, _ := g.Check(context.Background(), c); v.Reason != ReasonPassed {
		t.Fatalf("retry: got %+v, want passed", v)
	}
	if c.Facts.Trusted {
		t.Fatalf("client trusted by the pass of this very transaction: %+v", c.Facts)
	}
	// A later transaction of the known triplet is established.
	now = now.Add(time.Minute)
	c = call()
	if v, _ := g.Check(context.Background(), c); v.Reason != ReasonKnown {
		t.Fatalf("later message: got %+v, want known_triplet", v)
	}
	if !c.Facts.Trusted || c.Facts.TrustedBy != "greylist:known_triplet" {
		t.Fatalf("known triplet not trusted: %+v", c.Facts)
	}
	// A recipient exemption says nothing about the client.
	g = New(cfg, st, Exemptions{Recipients: matchAll{}}, nil)
	c = call()
	c.Req.Client = netip.MustParseAddr("203.0.113.9")
	if v, _ := g.Check(context.Background(), c); v.Reason != ReasonExemptRecipient {
		t.Fatalf("got %+v, want exempt_recipient", v)
	}
	if c.Facts.Trusted {
		t.Fatal("recipient exemption made the client trusted")
	}
}

type matchAll struct{}

func (matchAll) Match(string) (string, bool) { return "*", true }

// brokenStore fails every operation, like a store whose disk is gone.
type brokenStore struct{ *memstore.Store }

func (brokenStore) Get(context.Context, string) ([]byte, time.Time, error) {
	return nil, time.Time{}, errBroken
}
func (brokenStore) CompareAndSwap(context.Context, string, []byte, []byte, time.Time) (bool, error) {
	return false, errBroken
}
func (brokenStore) Update(context.Context, string, store.UpdateFunc) error {
	return errBroken
}
func (brokenStore) Incr(context.Context, string, int64, time.Time) (int64, error) {
	return 0, errBroken
}

var errBroken = errors.New("disk I/O error")

// failingUpdate reads fine but cannot write: the one-step update of the
// triplet fails after the auto-allowlist read succeeded.
type failingUpdate struct{ *memstore.Store }

func (failingUpdate) Update(context.Context, string, store.UpdateFunc) error { return errBroken }

func TestTripletUpdateErrorAnswersDunno(t *testing.T) {
	e := engine.New(engine.Options{Checks: []engine.Check{New(testConfig(), failingUpdate{memstore.New()}, Exemptions{}, nil)}})
	v := e.Decide(context.Background(), &policy.Request{State: policy.StateRcpt,
		Client: netip.MustParseAddr("198.51.100.1"), Sender: "a@example.org", Recipient: "b@example.net"})
	if v.Action != policy.Dunno || v.Reason != "internal_error" || v.Check != Name {
		t.Fatalf("got %q %s/%s", v.Line(), v.Check, v.Reason)
	}
}

// TestStoreErrorNeverDefersMail: with the store failing, greylisting answers
// the engine's on_error (DUNNO by default), never a deferral or rejection,
// and exemptions still work without the store.
func TestStoreErrorNeverDefersMail(t *testing.T) {
	e := engine.New(engine.Options{Checks: []engine.Check{New(testConfig(), brokenStore{memstore.New()}, Exemptions{}, nil)}})
	v := e.Decide(context.Background(), &policy.Request{State: policy.StateRcpt,
		Client: netip.MustParseAddr("198.51.100.1"), Sender: "a@example.org", Recipient: "b@example.net"})
	if v.Action != policy.Dunno || v.Reason != "internal_error" || v.Check != Name {
		t.Fatalf("got %q %s/%s", v.Line(), v.Check, v.Reason)
	}
	v = e.Decide(context.Background(), &policy.Request{State: policy.StateRcpt, SASLUsername: "alice",
		Client: netip.MustParseAddr("198.51.100.1"), Sender: "a@example.org", Recipient: "b@example.net"})
	if v.Reason != ReasonExemptSASL {
		t.Fatalf("exemption needed the store: %s", v.Reason)
	}
}
