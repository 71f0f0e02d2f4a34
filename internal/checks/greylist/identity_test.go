package greylist

import (
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/dnsbl"
	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/facts"
	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/resolver"
	"github.com/tempfail/tempfail/internal/store/memstore"
	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

// poolZone: pool.example's SPF authorises both of its outbound pools,
// 203.0.113.0/24 and 198.51.100.0/24 (through an include), as a large
// provider's does. Its hosts have forward-confirmed names under
// mail.pool.example.
const poolZone = `
$TTL 300
example. IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
pool.example. IN MX 10 mx.pool.example.
pool.example. IN TXT "v=spf1 ip4:203.0.113.0/24 include:_spf2.pool.example -all"
_spf2.pool.example. IN TXT "v=spf1 ip4:198.51.100.0/24 -all"
out1.mail.pool.example. IN A 203.0.113.10
out2.mail.pool.example. IN A 198.51.100.20
ip-192-0-2-7.dsl.isp.example. IN A 192.0.2.7
nospf.example. IN MX 10 mx.pool.example.
broken.example. IN MX 10 mx.pool.example.
in-addr.arpa. IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
10.113.0.203.in-addr.arpa. IN PTR out1.mail.pool.example.
20.100.51.198.in-addr.arpa. IN PTR out2.mail.pool.example.
7.2.0.192.in-addr.arpa. IN PTR ip-192-0-2-7.dsl.isp.example.
`

// dnsRig is greylisting behind an engine whose facts come from poolZone.
func dnsRig(t *testing.T, cfg Config, opts ...dnstest.Option) (*rig, *dnstest.Server) {
	t.Helper()
	srv := dnstest.Start(t, poolZone, opts...)
	res, err := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: 200 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	st := memstore.NewWithClock(func() time.Time { return r.now })
	t.Cleanup(func() { st.Close() })
	rigStores[r] = st
	ex, err := LoadExemptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.e = engine.New(engine.Options{
		Checks:  []engine.Check{New(cfg, st, ex, nil)},
		Now:     func() time.Time { return r.now },
		Facts:   &facts.Source{R: res},
		Timeout: 2 * time.Second,
	})
	return r, srv
}

// TestPoolRetryFromAnotherAddress is the provider-pool story: the first
// attempt comes from 203.0.113.10, the retry from 198.51.100.20, another
// network altogether. Both are authorised by the sender domain's SPF, so
// keyed on the SPF-verified domain the retry passes after the delay; keyed
// on the network it is a new triplet and would wait again.
func TestPoolRetryFromAnotherAddress(t *testing.T) {
	msg := func(client string) req {
		return req{client: client, sender: "alice@pool.example", rcpt: "bob@example.net"}
	}
	t.Run("spf keying", func(t *testing.T) {
		r, _ := dnsRig(t, testConfig())
		if v := r.ask(msg("203.0.113.10")); v.Reason != ReasonNewTriplet || !strings.Contains(v.Detail, "spf:pool.example") {
			t.Fatalf("first attempt: %+v", v)
		}
		r.advance(6 * time.Minute)
		if v := r.ask(msg("198.51.100.20")); v.Reason != ReasonPassed {
			t.Fatalf("retry from the other pool: got %q %q %q, want passed", v.Line(), v.Reason, v.Detail)
		}
	})
	t.Run("network keying", func(t *testing.T) {
		cfg := testConfig()
		cfg.KeyBy = []string{KeyNetwork}
		r, _ := dnsRig(t, cfg)
		if v := r.ask(msg("203.0.113.10")); v.Reason != ReasonNewTriplet {
			t.Fatalf("first attempt: %+v", v)
		}
		r.advance(6 * time.Minute)
		if v := r.ask(msg("198.51.100.20")); v.Reason != ReasonNewTriplet {
			t.Fatalf("with network keying the retry from another network must start over, got %q", v.Reason)
		}
	})
	t.Run("fcrdns keying", func(t *testing.T) {
		cfg := testConfig()
		cfg.KeyBy = []string{KeyFCrDNS, KeyNetwork}
		r, _ := dnsRig(t, cfg)
		m := msg("203.0.113.10")
		m.sender = "alice@nospf.example"
		if v := r.ask(m); v.Reason != ReasonNewTriplet || !strings.Contains(v.Detail, "dns:pool.example") {
			t.Fatalf("first attempt: %+v", v)
		}
		r.advance(6 * time.Minute)
		m.client = "198.51.100.20"
		if v := r.ask(m); v.Reason != ReasonPassed {
			t.Fatalf("retry from a host of the same organisational domain: %q", v.Reason)
		}
	})
}

// TestIdentityFallbacks: a generic end-user name is not an identity; a
// DNS failure falls back to the network and never errors; records keyed
// by network before the upgrade still count.
func TestIdentityFallbacks(t *testing.T) {
	t.Run("dynamic name keys by network", func(t *testing.T) {
		r, _ := dnsRig(t, testConfig())
		v := r.ask(req{client: "192.0.2.7", sender: "x@nospf.example", rcpt: "bob@example.net"})
		if v.Reason != ReasonNewTriplet || v.Detail != "" {
			t.Fatalf("got %+v, want a network-keyed new triplet", v)
		}
	})
	t.Run("servfail keys by network", func(t *testing.T) {
		r, _ := dnsRig(t, testConfig(), dnstest.ServFail(dnstest.AnyName))
		v := r.ask(req{client: "203.0.113.10", sender: "alice@pool.example", rcpt: "bob@example.net"})
		if v.Reason != ReasonNewTriplet || v.Detail != "" {
			t.Fatalf("got %+v", v)
		}
	})
	t.Run("network-keyed record still matches", func(t *testing.T) {
		cfg := testConfig()
		cfg.KeyBy = []string{KeyNetwork}
		r, srv := dnsRig(t, cfg)
		m := req{client: "203.0.113.10", sender: "alice@pool.example", rcpt: "bob@example.net"}
		r.ask(m) // written under the network, as before the upgrade
		// The upgrade: same store, identity keying on.
		r.e.Reload(engine.Options{Checks: []engine.Check{New(testConfig(), storeOf(t, r), Exemptions{}, nil)},
			Now: func() time.Time { return r.now }, Facts: factsFor(t, srv)})
		r.advance(6 * time.Minute)
		m.client = "203.0.113.11"
		if v := r.ask(m); v.Reason != ReasonPassed {
			t.Fatalf("retry after the upgrade: %q", v.Reason)
		}
	})
}

// TestRiskBased: with risk_based on, a client with forward-confirmed
// reverse DNS and SPF pass is not delayed; one with a generic name and no
// SPF is.
func TestRiskBased(t *testing.T) {
	cfg := testConfig()
	cfg.RiskBased = true
	r, _ := dnsRig(t, cfg)
	v := r.ask(req{client: "203.0.113.10", sender: "alice@pool.example", rcpt: "bob@example.net"})
	if v.Reason != ReasonLowRisk || v.Action != policy.Dunno {
		t.Fatalf("clean sender: %+v", v)
	}
	v = r.ask(req{client: "192.0.2.7", sender: "x@nospf.example", rcpt: "bob@example.net"})
	if v.Reason != ReasonNewTriplet {
		t.Fatalf("risky sender (dynamic name, no SPF): %+v", v)
	}
}

// TestExemptClientsAskNoDNS: an exempt client costs no DNS query.
func TestExemptClientsAskNoDNS(t *testing.T) {
	r, srv := dnsRig(t, testConfig())
	r.ask(req{client: "203.0.113.10", sender: "alice@pool.example", rcpt: "bob@example.net", sasl: "alice"})
	r.ask(req{client: "203.0.113.10", sender: "alice@pool.example", rcpt: "postmaster@example.net"})
	if n := srv.TotalQueries(); n != 0 {
		t.Fatalf("exempt requests sent %d DNS queries", n)
	}
}

var rigStores = map[*rig]*memstore.Store{}

func storeOf(t *testing.T, r *rig) *memstore.Store {
	// Reach the store the rig's check uses through a one-off request-free
	// path: rebuild from the engine is not possible, so dnsRig registers it.
	s, ok := rigStores[r]
	if !ok {
		t.Fatal("store not registered")
	}
	return s
}

func factsFor(t *testing.T, srv *dnstest.Server) *facts.Source {
	res, err := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: 200 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &facts.Source{R: res}
}

// TestDNSWLSkipsGreylisting: a client with a negative DNSBL score (listed
// on a DNSWL, not outweighed by a blocklist) passes without greylisting;
// one whose allowlisting is outweighed, or that is on no list, is
// greylisted as usual.
func TestDNSWLSkipsGreylisting(t *testing.T) {
	const lists = `
10.113.0.203.wl.example. IN A 127.0.10.2
99.2.0.192.wl.example. IN A 127.0.10.2
99.2.0.192.bl.example. IN A 127.0.0.2
`
	srv := dnstest.Start(t, poolZone+lists)
	res, err := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: 200 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	sites, err := dnsbl.ParseSites("bl.example*3 wl.example=127.0.[0..255].[1..3]*-2")
	if err != nil {
		t.Fatal(err)
	}
	checker, err := dnsbl.New(res, dnsbl.Config{Sites: sites})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	r := &rig{t: t, now: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)}
	st := memstore.NewWithClock(func() time.Time { return r.now })
	t.Cleanup(func() { st.Close() })
	r.e = engine.New(engine.Options{
		Checks:  []engine.Check{New(cfg, st, Exemptions{}, nil)},
		Now:     func() time.Time { return r.now },
		Facts:   &facts.Source{R: res, DNSBL: checker},
		Timeout: 2 * time.Second,
	})
	msg := func(client string) req {
		return req{client: client, sender: "alice@nospf.example", rcpt: "bob@example.net"}
	}
	if v := r.ask(msg("203.0.113.10")); v.Line() != "DUNNO" || v.Reason != ReasonExemptDNSWL || !strings.Contains(v.Detail, "wl.example (score -2)") {
		t.Fatalf("DNSWL-listed client: %s %s %q", v.Line(), v.Reason, v.Detail)
	}
	if v := r.ask(msg("192.0.2.99")); v.Reason != ReasonNewTriplet {
		t.Fatalf("allowlisted but outweighed by a blocklist: %s %s", v.Line(), v.Reason)
	}
	if v := r.ask(msg("198.51.100.20")); v.Reason != ReasonNewTriplet {
		t.Fatalf("unlisted client: %s %s", v.Line(), v.Reason)
	}
}
