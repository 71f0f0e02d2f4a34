package dnsbl

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/tempfail/tempfail/internal/resolver"
	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

// The lists served on loopback. Client addresses used below:
//
//	203.0.113.7   SBL (127.0.0.2) on zen, listed on bb and sem, has a TXT
//	203.0.113.8   PBL only (127.0.0.11) on zen
//	203.0.113.9   zen answers 127.255.255.254 (public resolver)
//	203.0.113.10  zen answers 127.255.255.255 and 127.0.0.2 together
//	203.0.113.20  dnswl "medium trust" 127.0.10.1
//	203.0.113.21  dnswl "high trust" 127.0.15.3, also on zen (127.0.0.4)
//	203.0.113.22  dnswl 127.0.0.255 (over the dnswl.org limit)
//	203.0.113.30  drop.test never answers, fail.test SERVFAILs
//	2001:db8::25  listed on v6.test (nibble name)
//	anything      parked.test answers 198.51.100.1 (expired list domain)
const zones = `
$TTL 300
$ORIGIN zen.test.
@            SOA ns hostmaster 1 3600 600 86400 300
2.0.0.127    A   127.0.0.2
             A   127.0.0.4
             A   127.0.0.10
7.113.0.203  A   127.0.0.2
             TXT "Listed by SBL, see https://check.example/sbl/203.0.113.7"
8.113.0.203  A   127.0.0.11
9.113.0.203  A   127.255.255.254
10.113.0.203 A   127.255.255.255
             A   127.0.0.2
21.113.0.203 A   127.0.0.4

$ORIGIN bb.test.
@            SOA ns hostmaster 1 3600 600 86400 300
7.113.0.203  A   127.0.0.2

$ORIGIN sem.test.
@            SOA ns hostmaster 1 3600 600 86400 300
7.113.0.203  A   127.0.0.3

$ORIGIN list.dnswl.org.
@            SOA ns hostmaster 1 3600 600 86400 300
20.113.0.203 A   127.0.10.1
21.113.0.203 A   127.0.15.3
22.113.0.203 A   127.0.0.255

$ORIGIN v6.test.
@            SOA ns hostmaster 1 3600 600 86400 300
5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2 A 127.0.0.2

$ORIGIN parked.test.
@            SOA ns hostmaster 1 3600 600 86400 300
*            A   198.51.100.1

$ORIGIN drop.test.
@            SOA ns hostmaster 1 3600 600 86400 300
$ORIGIN fail.test.
@            SOA ns hostmaster 1 3600 600 86400 300

$ORIGIN key123.zen.dq.test.
@            SOA ns hostmaster 1 3600 600 86400 300
7.113.0.203  A   127.0.0.2
`

func startDNS(t testing.TB) *dnstest.Server {
	t.Helper()
	return dnstest.Start(t, zones,
		dnstest.Drop("30.113.0.203.drop.test"),
		dnstest.ServFail("30.113.0.203.fail.test"))
}

// newResolver returns a resolver for srv with its own cache. One attempt
// of 1 s: generous for loopback on a loaded machine, and the dropping list
// is expected to time out; tests assert statuses only, never durations.
func newResolver(t testing.TB, srv *dnstest.Server) *resolver.Resolver {
	t.Helper()
	r, err := resolver.New(resolver.Config{
		Servers:  []string{srv.Addr()},
		Timeout:  time.Second,
		Attempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sites(t testing.TB, entries ...string) []Site {
	t.Helper()
	out := make([]Site, len(entries))
	for i, e := range entries {
		s, err := ParseSite(e)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = s
	}
	return out
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// hits renders hits as "list=filter*weight[addrs]" for comparison.
func hits(hs []Hit) string {
	var parts []string
	for _, h := range hs {
		parts = append(parts, h.String())
	}
	return strings.Join(parts, " ")
}

func TestScore(t *testing.T) {
	srv := startDNS(t)
	tests := []struct {
		name     string
		sites    []string
		ip       string
		score    int
		hits     string
		tempfail string // "list:reason ..."
		problems string // "list:kind ..."
		blocked  string // BlockedBy().List, "" for none
		allow    bool
	}{
		{
			name:  "single hit, default weight",
			sites: []string{"zen.test"}, ip: "203.0.113.7",
			score: 1, hits: "zen.test*1[127.0.0.2]", blocked: "zen.test",
		},
		{
			name:  "not listed",
			sites: []string{"zen.test*3", "bb.test*2"}, ip: "203.0.113.99",
		},
		{
			name:  "RFC 5782 test entry 127.0.0.2, several answers, one weight",
			sites: []string{"zen.test*3"}, ip: "127.0.0.2",
			score: 3, hits: "zen.test*3[127.0.0.2 127.0.0.4 127.0.0.10]", blocked: "zen.test",
		},
		{
			name:  "filter match",
			sites: []string{"zen.test=127.0.0.2*3"}, ip: "203.0.113.7",
			score: 3, hits: "zen.test=127.0.0.2*3[127.0.0.2]", blocked: "zen.test",
		},
		{
			name:  "filter miss",
			sites: []string{"zen.test=127.0.0.2*3"}, ip: "203.0.113.8",
		},
		{
			name:  "range matches PBL",
			sites: []string{"zen.test=127.0.0.[2..11]*3"}, ip: "203.0.113.8",
			score: 3, hits: "zen.test=127.0.0.[2..11]*3[127.0.0.11]", blocked: "zen.test",
		},
		{
			name:  "list matches only listed values",
			sites: []string{"zen.test=127.0.0.[2;4;10]*2"}, ip: "127.0.0.2",
			score: 2, hits: "zen.test=127.0.0.[2;4;10]*2[127.0.0.2 127.0.0.4 127.0.0.10]", blocked: "zen.test",
		},
		{
			name:  "several entries for one list each add once",
			sites: []string{"zen.test=127.0.0.[2;3]*4", "zen.test=127.0.0.[4..7]*7", "zen.test=127.0.0.[10;11]*1", "zen.test=127.0.0.9*100"}, ip: "127.0.0.2",
			score: 12, hits: "zen.test=127.0.0.[2;3]*4[127.0.0.2] zen.test=127.0.0.[4..7]*7[127.0.0.4] zen.test=127.0.0.[10;11]*1[127.0.0.10]",
			blocked: "zen.test",
		},
		{
			name:  "several lists add up, highest weight named",
			sites: []string{"zen.test*2", "bb.test*3", "sem.test"}, ip: "203.0.113.7",
			score: 6, hits: "zen.test*2[127.0.0.2] bb.test*3[127.0.0.2] sem.test*1[127.0.0.3]", blocked: "bb.test",
		},
		{
			name:  "tie named by first written",
			sites: []string{"sem.test*2", "bb.test*2"}, ip: "203.0.113.7",
			score: 4, hits: "sem.test*2[127.0.0.3] bb.test*2[127.0.0.2]", blocked: "sem.test",
		},
		{
			name:  "DNSWL negative weight",
			sites: []string{"zen.test*3", "list.dnswl.org=127.0.[0..255].0*-2", "list.dnswl.org=127.0.[0..255].[1..3]*-3"}, ip: "203.0.113.20",
			score: -3, hits: "list.dnswl.org=127.0.[0..255].[1..3]*-3[127.0.10.1]", allow: true,
		},
		{
			name:  "DNSWL and DNSBL together",
			sites: []string{"zen.test*3", "list.dnswl.org=127.0.[0..255].[1..3]*-5"}, ip: "203.0.113.21",
			score: -2, hits: "zen.test*3[127.0.0.4] list.dnswl.org=127.0.[0..255].[1..3]*-5[127.0.15.3]", blocked: "zen.test", allow: true,
		},
		{
			name:  "dnswl.org over-limit code is not an allowlisting",
			sites: []string{"list.dnswl.org*-5"}, ip: "203.0.113.22",
			problems: "list.dnswl.org:error code",
		},
		{
			name:  "IPv6 nibble query",
			sites: []string{"v6.test*2"}, ip: "2001:db8::25",
			score: 2, hits: "v6.test*2[127.0.0.2]", blocked: "v6.test",
		},
		{
			name:  "IPv4-mapped IPv6 queried as IPv4",
			sites: []string{"bb.test"}, ip: "::ffff:203.0.113.7",
			score: 1, hits: "bb.test*1[127.0.0.2]", blocked: "bb.test",
		},
		{
			name:  "answers outside 127/8 ignored (parked domain)",
			sites: []string{"parked.test*5", "bb.test"}, ip: "203.0.113.7",
			score: 1, hits: "bb.test*1[127.0.0.2]", blocked: "bb.test",
			problems: "parked.test:answer outside 127.0.0.0/8",
		},
		{
			name:  "Spamhaus public resolver code",
			sites: []string{"zen.test*3"}, ip: "203.0.113.9",
			problems: "zen.test:error code",
		},
		{
			name:  "error code next to data: data counts",
			sites: []string{"zen.test*3"}, ip: "203.0.113.10",
			score: 3, hits: "zen.test*3[127.0.0.2]", blocked: "zen.test",
			problems: "zen.test:error code",
		},
		{
			name:  "SERVFAIL and timeout contribute 0",
			sites: []string{"fail.test*3", "drop.test*3", "zen.test"}, ip: "203.0.113.30",
			tempfail: "fail.test:servfail drop.test:timeout",
		},
		{
			name:  "no sites",
			sites: nil, ip: "203.0.113.7",
		},
		{
			name:  "invalid address",
			sites: []string{"zen.test"}, ip: "",
		},
		{
			name:  "access key hidden in names",
			sites: []string{"key123.zen.dq.test*3"}, ip: "203.0.113.7",
			score: 3, hits: "key123.zen.dq.test*3[127.0.0.2]", blocked: "key123.zen.dq.test",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(newResolver(t, srv), Config{Sites: sites(t, tt.sites...)})
			if err != nil {
				t.Fatal(err)
			}
			var addr netip.Addr
			if tt.ip != "" {
				addr = ip(tt.ip)
			}
			res := c.Score(context.Background(), addr)
			if res.Score != tt.score {
				t.Errorf("score %d, want %d", res.Score, tt.score)
			}
			if got := hits(res.Hits); got != tt.hits {
				t.Errorf("hits\n got %s\nwant %s", got, tt.hits)
			}
			var tf []string
			for _, f := range res.TempFail {
				tf = append(tf, f.List+":"+f.Reason.String())
			}
			if got := strings.Join(tf, " "); got != tt.tempfail {
				t.Errorf("tempfail %q, want %q", got, tt.tempfail)
			}
			var pr []string
			for _, p := range res.Problems {
				pr = append(pr, p.List+":"+p.Kind.String())
			}
			if got := strings.Join(pr, " "); got != tt.problems {
				t.Errorf("problems %q, want %q", got, tt.problems)
			}
			h, ok := res.BlockedBy()
			if h.List != tt.blocked || ok != (tt.blocked != "") || res.Listed() != ok {
				t.Errorf("BlockedBy %q %v, Listed %v, want %q", h.List, ok, res.Listed(), tt.blocked)
			}
			if res.Allowlisted() != tt.allow {
				t.Errorf("Allowlisted %v, want %v", res.Allowlisted(), tt.allow)
			}
		})
	}
}

func TestProblemDetails(t *testing.T) {
	srv := startDNS(t)
	c, err := New(newResolver(t, srv), Config{Sites: sites(t, "zen.test*3", "parked.test")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res := c.Score(ctx, ip("203.0.113.9"))
	if len(res.Problems) != 2 {
		t.Fatalf("problems %v", res.Problems)
	}
	p := res.Problems[0]
	if p.Kind != ErrorCode || !slices.Equal(p.Addrs, []netip.Addr{ip("127.255.255.254")}) ||
		!strings.Contains(p.Detail, "public/open resolver") || !p.First {
		t.Errorf("first problem %+v", p)
	}
	if q := res.Problems[1]; q.Kind != OutsideLoopback || q.List != "parked.test" || !q.First ||
		!slices.Equal(q.Addrs, []netip.Addr{ip("198.51.100.1")}) {
		t.Errorf("second problem %+v", q)
	}
	want := "zen.test: error code [127.255.255.254]: query via a public/open resolver"
	if !strings.HasPrefix(p.String(), want) {
		t.Errorf("String() = %q, want prefix %q", p.String(), want)
	}

	// Reported every time, but First only once per list and kind, so
	// that the check warns once.
	res = c.Score(ctx, ip("203.0.113.9"))
	if len(res.Problems) != 2 || res.Problems[0].First || res.Problems[1].First {
		t.Errorf("second time: %+v", res.Problems)
	}
	// Another error code of the same list is the same kind: not First.
	res = c.Score(ctx, ip("203.0.113.10"))
	if len(res.Problems) != 2 || res.Problems[0].First || !strings.Contains(res.Problems[0].Detail, "excessive") {
		t.Errorf("other code: %+v", res.Problems)
	}

	for _, tt := range []struct {
		zone, addr, detail string
	}{
		{"zen.spamhaus.org", "127.255.255.252", "typing error"},
		{"zen.spamhaus.org", "127.255.255.254", "public/open resolver"},
		{"zen.spamhaus.org", "127.255.255.255", "excessive number"},
		{"bl.example", "127.255.255.1", "127.255.255.0/24"},
		{"list.dnswl.org", "127.0.0.255", "dnswl.org"},
	} {
		d, ok := errorCode(tt.zone, ip(tt.addr))
		if !ok || !strings.Contains(d, tt.detail) {
			t.Errorf("errorCode(%s, %s) = %q %v", tt.zone, tt.addr, d, ok)
		}
	}
	for _, tt := range [][2]string{{"bl.example", "127.0.0.255"}, {"zen.spamhaus.org", "127.0.0.2"}, {"notdnswl.org", "127.0.0.255"}} {
		if d, ok := errorCode(tt[0], ip(tt[1])); ok {
			t.Errorf("errorCode(%s, %s) = %q, want data", tt[0], tt[1], d)
		}
	}
}

// TestQueryName checks the query names against the examples of RFC 5782.
func TestQueryName(t *testing.T) {
	for _, tt := range []struct{ ip, want string }{
		{"192.0.2.99", "99.2.0.192."},        // RFC 5782 section 2.1
		{"::ffff:192.0.2.99", "99.2.0.192."}, // mapped: as IPv4
		{"2001:db8:1:2:3:4:567:89ab", "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2."}, // section 2.4
		{"fe80::1%eth0", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f."},
	} {
		if got := reversed(ip(tt.ip)); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.ip, got, tt.want)
		}
	}
}

// TestDistinctZonesQueriedOnceAndCached: a list written several times is
// asked once, and a second Score for the same client is answered from the
// shared cache without any query.
func TestDistinctZonesQueriedOnceAndCached(t *testing.T) {
	srv := startDNS(t)
	c, err := New(newResolver(t, srv), Config{Sites: sites(t,
		"zen.test=127.0.0.[2..11]*3", "zen.test=127.0.0.2*1", "bb.test*2",
		"list.dnswl.org=127.0.[0..255].0*-2", "list.dnswl.org=127.0.[0..255].[1..3]*-3")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first := c.Score(ctx, ip("203.0.113.7"))
	if first.Score != 6 {
		t.Fatalf("score %d: %s", first.Score, hits(first.Hits))
	}
	for _, name := range []string{"7.113.0.203.zen.test", "7.113.0.203.bb.test", "7.113.0.203.list.dnswl.org"} {
		if n := srv.Queries(name, dns.TypeA); n != 1 {
			t.Errorf("%s: %d queries, want 1", name, n)
		}
	}
	total := srv.TotalQueries()
	if total != 3 {
		t.Errorf("%d queries, want 3", total)
	}
	second := c.Score(ctx, ip("203.0.113.7"))
	if n := srv.TotalQueries(); n != total {
		t.Errorf("second Score sent %d queries, want 0", n-total)
	}
	if second.Score != first.Score || hits(second.Hits) != hits(first.Hits) {
		t.Errorf("second result %d %s differs from %d %s", second.Score, hits(second.Hits), first.Score, hits(first.Hits))
	}
	// Two hits on one list do not share their addresses.
	second.Hits[0].Addrs[0] = netip.Addr{}
	if hits(second.Hits[1:]) != hits(first.Hits[1:]) {
		t.Errorf("hits share memory: %s", hits(second.Hits))
	}
}

// barrier is a Lookuper that holds the A lookups of the names in wait
// until all of them are in flight at once, which only happens if Score
// queries those zones in parallel. A sequential Score would wait for the
// first lookup forever; the generous limit turns that into a test failure,
// not a hang. Other names pass straight through. The resolver can be
// swapped to simulate a cache that lost its entries.
type barrier struct {
	mu      sync.Mutex
	r       *resolver.Resolver
	wait    map[string]bool
	arrived int
	all     chan struct{}
	failed  bool
	calls   []string
}

func newBarrier(r *resolver.Resolver, names ...string) *barrier {
	b := &barrier{r: r, wait: map[string]bool{}, all: make(chan struct{})}
	for _, n := range names {
		b.wait[n] = true
	}
	return b
}

func (b *barrier) LookupA(ctx context.Context, name string) (resolver.IPResult, error) {
	b.mu.Lock()
	b.calls = append(b.calls, name)
	r := b.r
	hold := b.wait[name]
	if hold {
		b.arrived++
		if b.arrived == len(b.wait) {
			close(b.all)
		}
	}
	b.mu.Unlock()
	if hold {
		select {
		case <-b.all:
		case <-time.After(10 * time.Second):
			b.mu.Lock()
			b.failed = true
			b.mu.Unlock()
		}
	}
	return r.LookupA(ctx, name)
}

func (b *barrier) LookupTXT(ctx context.Context, name string) (resolver.TXTResult, error) {
	return b.r.LookupTXT(ctx, name)
}

// TestParallelQueries: the lists are asked in parallel (a client not
// remembered: a cold cache, or a score built from uncached answers).
func TestParallelQueries(t *testing.T) {
	srv := startDNS(t)
	names := []string{"7.113.0.203.zen.test", "7.113.0.203.bb.test", "7.113.0.203.sem.test"}
	b := newBarrier(newResolver(t, srv), names...)
	c, err := New(b, Config{Sites: sites(t, "zen.test*2", "bb.test*3", "sem.test")})
	if err != nil {
		t.Fatal(err)
	}
	client := ip("203.0.113.7")
	res := c.Score(context.Background(), client)
	if b.failed {
		t.Fatal("cold cache: lookups were not in flight together, zones queried one after the other")
	}
	if res.Score != 6 {
		t.Errorf("score %d", res.Score)
	}
}

// TestScoreRemembered: a clean score built from cached answers is reused
// without asking the resolver until the first answer's TTL ends; a score
// with a failed list, or built from answers the resolver did not keep, is
// not.
func TestScoreRemembered(t *testing.T) {
	srv := startDNS(t)
	names := []string{"7.113.0.203.zen.test", "7.113.0.203.bb.test"}
	b := newBarrier(newResolver(t, srv), names...)
	c, err := New(b, Config{Sites: sites(t, "zen.test*2", "bb.test*3")})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	c.now = func() time.Time { return now }
	ctx := context.Background()
	client := ip("203.0.113.7")
	score := func() (int, []string) {
		t.Helper()
		b.mu.Lock()
		b.calls, b.wait = nil, nil
		b.mu.Unlock()
		res := c.Score(ctx, client)
		return res.Score, b.calls
	}
	// Cold: asked, answers not from the cache, so not remembered.
	if s, calls := score(); s != 5 || len(calls) != 2 {
		t.Fatalf("cold: score %d, calls %v", s, calls)
	}
	// From the resolver's cache: asked, now remembered.
	if s, calls := score(); s != 5 || len(calls) != 2 {
		t.Fatalf("cached: score %d, calls %v", s, calls)
	}
	queries := srv.TotalQueries()
	for range 3 {
		if s, calls := score(); s != 5 || len(calls) != 0 {
			t.Fatalf("remembered: score %d, calls %v", s, calls)
		}
	}
	if srv.TotalQueries() != queries {
		t.Error("queries sent for a remembered score")
	}
	// The IPv4-mapped form is the same client.
	if res := c.Score(ctx, netip.AddrFrom16(client.As16())); res.Score != 5 || len(b.calls) != 0 {
		t.Errorf("mapped: score %d, calls %v", res.Score, b.calls)
	}
	// The test zones answer with a TTL of an hour or less: past it, asked again.
	now = now.Add(2 * time.Hour)
	if s, calls := score(); s != 5 || len(calls) != 2 {
		t.Fatalf("expired: score %d, calls %v", s, calls)
	}
	// Another client is not served this one's score.
	if res := c.Score(ctx, ip("203.0.113.8")); res.Score == 5 && len(b.calls) == 0 {
		t.Error("another client got the remembered score")
	}
}

// TestFailedScoreNotRemembered: a list that did not answer leaves the score
// incomplete; the next request asks again.
func TestFailedScoreNotRemembered(t *testing.T) {
	srv := startDNS(t)
	c, err := New(newResolver(t, srv), Config{Sites: sites(t, "zen.test*2", "fail.test")})
	if err != nil {
		t.Fatal(err)
	}
	client := ip("203.0.113.30") // SERVFAIL from fail.test
	for range 3 {
		c.Score(context.Background(), client)
	}
	if _, ok := c.scores.get(client, time.Now()); ok {
		t.Error("a score with a failed list was remembered")
	}
}

// TestNoCacheNothingRemembered: with the resolver's cache disabled no
// answer is ever cached, so no score is remembered either: every Score
// asks (in parallel).
func TestNoCacheNothingRemembered(t *testing.T) {
	srv := startDNS(t)
	r, err := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: time.Second, Attempts: 1, CacheSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"7.113.0.203.zen.test", "7.113.0.203.bb.test"}
	c, err := New(r, Config{Sites: sites(t, "zen.test", "bb.test")})
	if err != nil {
		t.Fatal(err)
	}
	client := ip("203.0.113.7")
	for i := range 3 {
		b := newBarrier(r, names...)
		c.r = b
		if res := c.Score(context.Background(), client); res.Score != 2 || b.failed {
			t.Fatalf("round %d: score %d, parallel %v", i, res.Score, !b.failed)
		}
	}
	if _, ok := c.scores.get(client, time.Now()); ok {
		t.Error("score remembered without a cache")
	}
}

// TestContextDeadline: Score returns when the caller's context ends, with
// the unanswered lists in TempFail, never an error; both for a context
// already done and for a deadline that passes while the queries are out
// (the server answers only after 3 s, the resolver would wait 5 s).
func TestContextDeadline(t *testing.T) {
	srv := dnstest.Start(t, zones, dnstest.Slow(dnstest.AnyName, 3*time.Second))
	r, err := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: 5 * time.Second, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(r, Config{Sites: sites(t, "zen.test*3", "bb.test*2", "sem.test")})
	if err != nil {
		t.Fatal(err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	deadline, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	for name, ctx := range map[string]context.Context{"done": done, "deadline": deadline} {
		res := c.Score(ctx, ip("203.0.113.7"))
		if res.Score != 0 || len(res.Hits) != 0 || len(res.TempFail) != 3 {
			t.Fatalf("%s: got %+v", name, res)
		}
		for _, f := range res.TempFail {
			if f.Reason != resolver.ReasonCanceled {
				t.Errorf("%s: %s: reason %v, want canceled", name, f.List, f.Reason)
			}
		}
	}
}

func TestReplyNames(t *testing.T) {
	srv := startDNS(t)
	r := newResolver(t, srv)
	c, err := New(r, Config{
		Sites:      sites(t, "key123.zen.dq.test*3", "bb.test"),
		ReplyNames: map[string]string{"KEY123.zen.dq.test.": "zen.spamhaus.org"},
	})
	if err != nil {
		t.Fatal(err)
	}
	res := c.Score(context.Background(), ip("203.0.113.7"))
	if h, ok := res.BlockedBy(); !ok || h.List != "zen.spamhaus.org" {
		t.Errorf("BlockedBy %+v", h)
	}
	if s := fmt.Sprintf("%v %+v", res, res); strings.Contains(s, "key123") {
		t.Errorf("key visible in result: %+v", res)
	}

	for _, tt := range []struct{ domain, want string }{
		{"abcdefkey.zen.dq.spamhaus.net", "zen.dq.spamhaus.net"},
		{"abcdefkey.sbl-xbl.dq.spamhaus.net", "sbl-xbl.dq.spamhaus.net"},
		{"abcdefkey.combined.mail.abusix.zone", "combined.mail.abusix.zone"},
		{"zen.spamhaus.org", "zen.spamhaus.org"},
		{"dq.spamhaus.net", "dq.spamhaus.net"},
	} {
		if got := defaultReplyName(tt.domain); got != tt.want {
			t.Errorf("defaultReplyName(%s) = %s, want %s", tt.domain, got, tt.want)
		}
	}

	for _, tt := range []struct {
		cfg Config
		err string
	}{
		{Config{Sites: sites(t, "bb.test"), ReplyNames: map[string]string{"other.test": "x"}}, `dnsbl: reply name for "other.test", which is not a configured site`},
		{Config{Sites: sites(t, "bb.test"), ReplyNames: map[string]string{"bb.test": "two words"}}, `dnsbl: reply name "two words" for "bb.test": character ' ' is not printable ASCII without spaces`},
		{Config{Sites: sites(t, "bb.test"), ReplyNames: map[string]string{"bb.test": ""}}, `dnsbl: reply name "" for "bb.test": empty`},
		{Config{Sites: []Site{{Weight: 1}}}, `dnsbl: site "": missing DNSBL domain`},
		{Config{Sites: []Site{{Domain: "bad domain", Weight: 1}}}, `dnsbl: site "bad domain": domain "bad domain": invalid character ' ' (column 4)`},
		{Config{Sites: []Site{{Domain: "bb.test", Weight: MaxWeight + 1}}}, `dnsbl: site "bb.test*1048577": weight out of range -1048576..1048576`},
	} {
		if _, err := New(r, tt.cfg); err == nil || err.Error() != tt.err {
			t.Errorf("got %v, want %s", err, tt.err)
		}
	}
	hand, err := New(r, Config{Sites: []Site{{Domain: "BB.Test.", Weight: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if res := hand.Score(context.Background(), ip("203.0.113.7")); hits(res.Hits) != "bb.test*2[127.0.0.2]" {
		t.Errorf("hand-built site: %s", hits(res.Hits))
	}
	if _, err := New(nil, Config{}); err == nil {
		t.Error("nil resolver accepted")
	}
}

func TestRejectTextAndReason(t *testing.T) {
	srv := startDNS(t)
	c, err := New(newResolver(t, srv), Config{Sites: sites(t, "bb.test*2", "zen.test*3")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client := ip("203.0.113.7")
	res := c.Score(ctx, client)
	h, ok := res.BlockedBy()
	if !ok || h.List != "zen.test" {
		t.Fatalf("BlockedBy %+v %v", h, ok)
	}
	if got, want := RejectText(client, h.List, ""), "Service unavailable; client [203.0.113.7] blocked using zen.test"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	reason := c.Reason(ctx, h)
	if reason != "Listed by SBL, see https://check.example/sbl/203.0.113.7" {
		t.Errorf("reason %q", reason)
	}
	if got, want := RejectText(client, h.List, reason), "Service unavailable; client [203.0.113.7] blocked using zen.test; Listed by SBL, see https://check.example/sbl/203.0.113.7"; got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// bb.test publishes no TXT: no reason, no error.
	if r := c.Reason(ctx, res.Hits[0]); r != "" {
		t.Errorf("bb.test reason %q", r)
	}
	if r := c.Reason(ctx, Hit{}); r != "" {
		t.Errorf("zero hit reason %q", r)
	}
	if got, want := RejectText(ip("::ffff:192.0.2.1"), "x.example", ""), "Service unavailable; client [192.0.2.1] blocked using x.example"; got != want {
		t.Errorf("got %s", got)
	}
	if got, want := RejectText(ip("2001:db8::25"), "x.example", ""), "Service unavailable; client [2001:db8::25] blocked using x.example"; got != want {
		t.Errorf("got %s", got)
	}
	if got := fmt.Sprintf("%d %s", RejectCode, RejectEnhanced); got != "550 5.7.1" {
		t.Errorf("code %s", got)
	}
}

func TestSanitize(t *testing.T) {
	for _, tt := range [][2]string{
		{"", ""},
		{"plain text", "plain text"},
		{"  lead and trail  ", "lead and trail"},
		{"line1\r\nline2", "line1 line2"},
		{"tab\there\x00nul", "tab here nul"},
		{"caf\xc3\xa9 ok", "caf ok"},
		{"a\n\naction=OK\n\n", "a action=OK"},
		{strings.Repeat("x", 300), strings.Repeat("x", 200)},
		{strings.Repeat("x", 199) + "   y", strings.Repeat("x", 199)},
	} {
		if got := Sanitize(tt[0]); got != tt[1] {
			t.Errorf("Sanitize(%q) = %q, want %q", tt[0], got, tt[1])
		}
	}
}
