package resolver

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

// testZone is served on loopback by dnstest for every test here.
const testZone = `
$TTL 300
$ORIGIN example.test.
@        IN SOA  ns hostmaster 1 3600 600 86400 60
@        IN MX   20 MX2.Example.Test.
@        IN MX   10 mx1
@        IN A    192.0.2.1
@        IN AAAA 2001:db8::1
@        IN TXT  "v=spf1 ip4:192.0.2.0/24 -all"
mx1      IN A    192.0.2.10
mx2      IN A    192.0.2.20
v4only   IN A    192.0.2.30
v6only   IN AAAA 2001:db8::30
nullmx   IN MX   0 .
nullmx   IN A    192.0.2.31
nomx     IN A    192.0.2.40
alias    IN CNAME target
target   IN A    192.0.2.50
target   IN MX   5 mx1
dangling IN CNAME nothere
split    IN TXT  "v=spf1 " "-all"
multi    IN TXT  "one"
multi    IN TXT  "two"
quoted   IN TXT  "say \"hi\" \\ \009"
short 5  IN A    192.0.2.60
slow     IN MX   10 mx1

; SOA TTL below MINIMUM: the negative TTL is the SOA TTL (RFC 2308 section 5).
$ORIGIN low.test.
@     30 IN SOA  ns.example.test. hostmaster.example.test. 1 3600 600 86400 3600
www  300 IN A    192.0.2.70

$ORIGIN 2.0.192.in-addr.arpa.
@        IN SOA  ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
10       IN PTR  MX1.example.test.
1        IN PTR  example.test.
1        IN PTR  alt.example.test.
11       IN TXT  "exists, no PTR"

$ORIGIN 8.b.d.0.1.0.0.2.ip6.arpa.
@        IN SOA  ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0 IN PTR example.test.
`

// clock is a settable time source for cache expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newTest returns a resolver using the given servers and a fake clock. The
// default per-attempt timeout is 1 s, generous for loopback on a loaded
// machine; tests of timeouts set a shorter one and assert only the status.
func newTest(t testing.TB, cfg Config, servers ...*dnstest.Server) (*Resolver, *clock) {
	t.Helper()
	clk := newClock()
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	for _, s := range servers {
		cfg.Servers = append(cfg.Servers, s.Addr())
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, clk
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestLookups(t *testing.T) {
	srv := dnstest.Start(t, testZone)
	r, _ := newTest(t, Config{}, srv)
	ctx := context.Background()

	type want struct {
		status  Status
		nx      bool
		records []string
		null    bool
	}
	tests := []struct {
		kind, name string
		want       want
	}{
		{"MX", "example.test", want{Found, false, []string{"10 mx1.example.test", "20 mx2.example.test"}, false}},
		{"MX", "EXAMPLE.TEST.", want{Found, false, []string{"10 mx1.example.test", "20 mx2.example.test"}, false}},
		{"MX", "nope.example.test", want{NotFound, true, nil, false}},
		{"MX", "nomx.example.test", want{NotFound, false, nil, false}},
		{"MX", "nullmx.example.test", want{Found, false, []string{"0 ."}, true}},
		{"MX", "alias.example.test", want{Found, false, []string{"5 mx1.example.test"}, false}},
		{"A", "example.test", want{Found, false, []string{"192.0.2.1"}, false}},
		{"A", "nope.example.test", want{NotFound, true, nil, false}},
		{"A", "v6only.example.test", want{NotFound, false, nil, false}},
		{"A", "alias.example.test", want{Found, false, []string{"192.0.2.50"}, false}},
		{"A", "dangling.example.test", want{NotFound, true, nil, false}},
		{"AAAA", "example.test", want{Found, false, []string{"2001:db8::1"}, false}},
		{"AAAA", "nope.example.test", want{NotFound, true, nil, false}},
		{"AAAA", "v4only.example.test", want{NotFound, false, nil, false}},
		{"IP", "example.test", want{Found, false, []string{"192.0.2.1", "2001:db8::1"}, false}},
		{"IP", "v4only.example.test", want{Found, false, []string{"192.0.2.30"}, false}},
		{"IP", "v6only.example.test", want{Found, false, []string{"2001:db8::30"}, false}},
		{"IP", "nope.example.test", want{NotFound, true, nil, false}},
		{"IP", "nullmx.example.test", want{Found, false, []string{"192.0.2.31"}, false}},
		{"TXT", "example.test", want{Found, false, []string{"v=spf1 ip4:192.0.2.0/24 -all"}, false}},
		{"TXT", "split.example.test", want{Found, false, []string{"v=spf1 -all"}, false}},
		{"TXT", "multi.example.test", want{Found, false, []string{"one", "two"}, false}},
		{"TXT", "quoted.example.test", want{Found, false, []string{"say \"hi\" \\ \t"}, false}},
		{"TXT", "nope.example.test", want{NotFound, true, nil, false}},
		{"TXT", "mx1.example.test", want{NotFound, false, nil, false}},
		{"PTR", "192.0.2.10", want{Found, false, []string{"mx1.example.test"}, false}},
		{"PTR", "::ffff:192.0.2.10", want{Found, false, []string{"mx1.example.test"}, false}},
		{"PTR", "192.0.2.1", want{Found, false, []string{"alt.example.test", "example.test"}, false}},
		{"PTR", "2001:db8::1", want{Found, false, []string{"example.test"}, false}},
		{"PTR", "192.0.2.99", want{NotFound, true, nil, false}},
		{"PTR", "192.0.2.11", want{NotFound, false, nil, false}},
		{"A", "www.low.test", want{Found, false, []string{"192.0.2.70"}, false}},
	}
	for _, tt := range tests {
		t.Run(tt.kind+" "+tt.name, func(t *testing.T) {
			var res Result
			var got []string
			var null bool
			var err error
			switch tt.kind {
			case "MX":
				var x MXResult
				x, err = r.LookupMX(ctx, tt.name)
				res, null = x.Result, x.Null
				for _, mx := range x.Records {
					got = append(got, strconv.Itoa(int(mx.Pref))+" "+mx.Host)
				}
			case "A", "AAAA", "IP":
				var x IPResult
				switch tt.kind {
				case "A":
					x, err = r.LookupA(ctx, tt.name)
				case "AAAA":
					x, err = r.LookupAAAA(ctx, tt.name)
				default:
					x, err = r.LookupIP(ctx, tt.name)
					if x.Partial {
						t.Errorf("Partial set")
					}
				}
				res = x.Result
				for _, a := range x.Addrs {
					got = append(got, a.String())
				}
			case "TXT":
				var x TXTResult
				x, err = r.LookupTXT(ctx, tt.name)
				res, got = x.Result, x.Records
			case "PTR":
				var x PTRResult
				x, err = r.LookupPTR(ctx, ip(tt.name))
				res, got = x.Result, x.Names
				slices.Sort(got)
			}
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if res.Status != tt.want.status || res.NXDomain != tt.want.nx || null != tt.want.null {
				t.Errorf("status %v nx %v null %v (reason %v, rcode %d); want %v nx %v null %v",
					res.Status, res.NXDomain, null, res.Reason, res.Rcode, tt.want.status, tt.want.nx, tt.want.null)
			}
			if !slices.Equal(got, tt.want.records) {
				t.Errorf("records %q, want %q", got, tt.want.records)
			}
			wantRcode := dns.RcodeSuccess
			if tt.want.nx {
				wantRcode = dns.RcodeNameError
			}
			if res.Rcode != wantRcode {
				t.Errorf("rcode %d, want %d", res.Rcode, wantRcode)
			}
			if res.Reason != ReasonNone {
				t.Errorf("reason %v on a definite answer", res.Reason)
			}
			if res.TTL <= 0 {
				t.Errorf("TTL %v, want > 0", res.TTL)
			}
		})
	}
}

func TestInvalidInput(t *testing.T) {
	srv := dnstest.Start(t, testZone)
	r, _ := newTest(t, Config{}, srv)
	ctx := context.Background()
	for _, name := range []string{"", ".", "a..b", ".a", "a..", "0..", "-a.test", "a-.test", "a b.test", "a\x00.test",
		"ex\u00e4mple.test", strings.Repeat("a", 64) + ".test", strings.Repeat("abcdefghi.", 26)} {
		res, err := r.LookupMX(ctx, name)
		if !errors.Is(err, ErrInvalidName) {
			t.Errorf("LookupMX(%q) err = %v, want ErrInvalidName", name, err)
		}
		if res.Status != TempFail {
			t.Errorf("LookupMX(%q) status = %v, want the zero value TempFail", name, res.Status)
		}
		if _, err := r.LookupIP(ctx, name); !errors.Is(err, ErrInvalidName) {
			t.Errorf("LookupIP(%q) err = %v", name, err)
		}
	}
	if _, err := r.LookupPTR(ctx, netip.Addr{}); !errors.Is(err, ErrInvalidAddr) {
		t.Errorf("LookupPTR(zero) err = %v", err)
	}
	if srv.TotalQueries() != 0 {
		t.Errorf("invalid input caused %d queries", srv.TotalQueries())
	}
}

func TestServerFailures(t *testing.T) {
	tests := []struct {
		opt    dnstest.Option
		reason Reason
		rcode  int
	}{
		{dnstest.ServFail("example.test"), ReasonServFail, dns.RcodeServerFailure},
		{dnstest.Refused("example.test"), ReasonRefused, dns.RcodeRefused},
		{dnstest.Drop("example.test"), ReasonTimeout, -1},
	}
	for _, tt := range tests {
		t.Run(tt.reason.String(), func(t *testing.T) {
			srv := dnstest.Start(t, testZone, tt.opt)
			r, clk := newTest(t, Config{Attempts: 2, Timeout: 250 * time.Millisecond}, srv)
			ctx := context.Background()

			res, err := r.LookupMX(ctx, "example.test")
			if err != nil || res.Status != TempFail || res.Reason != tt.reason || res.Rcode != tt.rcode || res.Cached {
				t.Fatalf("got %+v, %v; want TempFail %v rcode %d", res.Result, err, tt.reason, tt.rcode)
			}
			if got := srv.Queries("example.test", dns.TypeMX); got != 2 {
				t.Errorf("%d queries, want 2 (Attempts)", got)
			}

			// Cached briefly (ServFailTTL, default 30 s).
			res, _ = r.LookupMX(ctx, "example.test")
			if res.Status != TempFail || !res.Cached || res.Reason != tt.reason {
				t.Errorf("second lookup %+v, want cached TempFail", res.Result)
			}
			if got := srv.Queries("example.test", dns.TypeMX); got != 2 {
				t.Errorf("%d queries after cached failure, want 2", got)
			}

			// Other names are unaffected.
			if res, _ := r.LookupA(ctx, "mx1.example.test"); res.Status != Found {
				t.Errorf("unaffected name: %+v", res.Result)
			}

			// Once the server recovers and the failure expires, we ask again.
			srv.Apply(dnstest.Heal("example.test"))
			clk.Add(29 * time.Second)
			if res, _ := r.LookupMX(ctx, "example.test"); res.Status != TempFail {
				t.Errorf("before ServFailTTL: %+v", res.Result)
			}
			clk.Add(2 * time.Second)
			if res, _ := r.LookupMX(ctx, "example.test"); res.Status != Found {
				t.Errorf("after ServFailTTL: %+v", res.Result)
			}
			st := r.Stats()
			if st.TempFails != 3 || st.CacheHits != 2 {
				t.Errorf("stats %+v, want 3 tempfails, 2 cache hits", st)
			}
			if tt.reason == ReasonTimeout && st.Timeouts != 2 {
				t.Errorf("stats %+v, want 2 timeouts", st)
			}
		})
	}
}

func TestServFailCachingDisabled(t *testing.T) {
	srv := dnstest.Start(t, testZone, dnstest.ServFail("example.test"))
	r, _ := newTest(t, Config{Attempts: 1, ServFailTTL: -1}, srv)
	for range 3 {
		if res, _ := r.LookupMX(context.Background(), "example.test"); res.Status != TempFail {
			t.Fatalf("%+v", res.Result)
		}
	}
	if got := srv.Queries("example.test", dns.TypeMX); got != 3 {
		t.Errorf("%d queries, want 3", got)
	}
}

func TestTruncationFallsBackToTCP(t *testing.T) {
	srv := dnstest.Start(t, testZone, dnstest.Truncate("example.test"))
	r, _ := newTest(t, Config{}, srv)
	res, err := r.LookupTXT(context.Background(), "example.test")
	if err != nil || res.Status != Found || len(res.Records) != 1 {
		t.Fatalf("got %+v %v", res, err)
	}
	if srv.Queries("example.test", dns.TypeTXT) != 2 || srv.TCPQueries("example.test", dns.TypeTXT) != 1 {
		t.Errorf("queries %d (tcp %d), want 2 (1)", srv.Queries("example.test", dns.TypeTXT), srv.TCPQueries("example.test", dns.TypeTXT))
	}
	if st := r.Stats(); st.TCPFallbacks != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestEDNSBufferSize(t *testing.T) {
	var b strings.Builder
	b.WriteString("$ORIGIN example.test.\n@ 300 IN SOA ns hostmaster 1 3600 600 86400 60\n")
	for i := range 10 { // ~1 KB: needs EDNS0 over UDP, fits in 1232
		b.WriteString("mid 300 IN TXT \"" + strings.Repeat(string(rune('a'+i)), 90) + "\"\n")
	}
	for i := range 20 { // ~2 KB: needs TCP
		b.WriteString("big 300 IN TXT \"" + strings.Repeat(string(rune('a'+i)), 90) + "\"\n")
	}
	srv := dnstest.Start(t, b.String())
	r, _ := newTest(t, Config{}, srv)
	for _, tt := range []struct {
		name  string
		n     int
		tcp   int
		total int
	}{{"mid.example.test", 10, 0, 1}, {"big.example.test", 20, 1, 2}} {
		res, _ := r.LookupTXT(context.Background(), tt.name)
		if res.Status != Found || len(res.Records) != tt.n {
			t.Errorf("%s: %v, %d records", tt.name, res.Status, len(res.Records))
		}
		if q, tq := srv.Queries(tt.name, dns.TypeTXT), srv.TCPQueries(tt.name, dns.TypeTXT); q != tt.total || tq != tt.tcp {
			t.Errorf("%s: %d queries (%d TCP), want %d (%d)", tt.name, q, tq, tt.total, tt.tcp)
		}
	}
}

func TestCache(t *testing.T) {
	srv := dnstest.Start(t, testZone)
	r, clk := newTest(t, Config{}, srv)
	ctx := context.Background()

	first, _ := r.LookupMX(ctx, "example.test")
	if first.Cached || first.TTL != 300*time.Second {
		t.Errorf("first lookup %+v", first.Result)
	}
	clk.Add(100 * time.Second)
	second, _ := r.LookupMX(ctx, "Example.Test.") // same key: case and dot do not matter
	if !second.Cached || second.TTL != 200*time.Second || !slices.Equal(second.Records, first.Records) {
		t.Errorf("second lookup %+v", second)
	}
	if got := srv.Queries("example.test", dns.TypeMX); got != 1 {
		t.Errorf("%d queries, want 1", got)
	}
	// Returned slices are copies: modifying one does not touch the cache.
	second.Records[0].Host = "changed"
	if third, _ := r.LookupMX(ctx, "example.test"); third.Records[0].Host != "mx1.example.test" {
		t.Errorf("cache modified through a result: %+v", third.Records)
	}

	// Expiry: "short" has TTL 5.
	r.LookupA(ctx, "short.example.test")
	clk.Add(4 * time.Second)
	if res, _ := r.LookupA(ctx, "short.example.test"); !res.Cached || res.TTL != time.Second {
		t.Errorf("before expiry %+v", res.Result)
	}
	clk.Add(time.Second)
	if res, _ := r.LookupA(ctx, "short.example.test"); res.Cached || res.Status != Found {
		t.Errorf("after expiry %+v", res.Result)
	}
	if got := srv.Queries("short.example.test", dns.TypeA); got != 2 {
		t.Errorf("%d queries for short, want 2", got)
	}

	// Different types are different entries.
	r.LookupA(ctx, "example.test")
	if got := srv.Queries("example.test", dns.TypeA); got != 1 {
		t.Errorf("%d A queries, want 1", got)
	}
}

func TestNegativeCaching(t *testing.T) {
	tests := []struct {
		name  string
		qtype uint16
		cfg   Config
		ttl   time.Duration
	}{
		// example.test: SOA TTL 300, MINIMUM 60 -> 60 s.
		{"nope.example.test", dns.TypeA, Config{}, 60 * time.Second},   // NXDOMAIN
		{"v6only.example.test", dns.TypeA, Config{}, 60 * time.Second}, // NODATA
		{"nope.low.test", dns.TypeA, Config{}, 30 * time.Second},       // SOA TTL 30 < MINIMUM 3600
		{"nope.example.test", dns.TypeA, Config{NegativeTTL: 10 * time.Second}, 10 * time.Second},
		{"nope.example.test", dns.TypeA, Config{MinTTL: 90 * time.Second}, 90 * time.Second},
	}
	for _, tt := range tests {
		srv := dnstest.Start(t, testZone)
		r, clk := newTest(t, tt.cfg, srv)
		ctx := context.Background()
		res, _ := r.LookupA(ctx, tt.name)
		if res.Status != NotFound || res.TTL != tt.ttl {
			t.Errorf("%s %+v: first %+v, want NotFound TTL %v", tt.name, tt.cfg, res.Result, tt.ttl)
		}
		clk.Add(tt.ttl - time.Second)
		if res, _ := r.LookupA(ctx, tt.name); !res.Cached || res.Status != NotFound {
			t.Errorf("%s: before expiry %+v", tt.name, res.Result)
		}
		clk.Add(time.Second)
		if res, _ := r.LookupA(ctx, tt.name); res.Cached || res.Status != NotFound {
			t.Errorf("%s: after expiry %+v", tt.name, res.Result)
		}
		if got := srv.Queries(tt.name, dns.TypeA); got != 2 {
			t.Errorf("%s: %d queries, want 2", tt.name, got)
		}
	}
}

func TestTTLClamps(t *testing.T) {
	srv := dnstest.Start(t, testZone)
	r, _ := newTest(t, Config{MinTTL: time.Minute, MaxTTL: 2 * time.Minute}, srv)
	ctx := context.Background()
	if res, _ := r.LookupA(ctx, "short.example.test"); res.TTL != time.Minute {
		t.Errorf("TTL 5 s with MinTTL 1 min: %v", res.TTL)
	}
	if res, _ := r.LookupA(ctx, "mx1.example.test"); res.TTL != 2*time.Minute {
		t.Errorf("TTL 300 s with MaxTTL 2 min: %v", res.TTL)
	}
	if _, err := New(Config{Servers: []string{"127.0.0.1"}, MinTTL: time.Hour, MaxTTL: time.Minute}); err == nil {
		t.Error("MinTTL > MaxTTL accepted")
	}
}

func TestCacheBound(t *testing.T) {
	srv := dnstest.Start(t, testZone)
	r, _ := newTest(t, Config{CacheSize: 3}, srv)
	ctx := context.Background()
	names := []string{"example.test", "mx1.example.test", "mx2.example.test", "v4only.example.test",
		"nomx.example.test", "target.example.test", "short.example.test", "nullmx.example.test"}
	for _, n := range names {
		if res, _ := r.LookupA(ctx, n); res.Status != Found {
			t.Fatalf("%s: %+v", n, res.Result)
		}
		// Keep the first name hot: CLOCK gives it a second chance.
		if res, _ := r.LookupA(ctx, names[0]); !res.Cached {
			t.Errorf("hot entry evicted after %s", n)
		}
	}
	st := r.Stats()
	if st.CacheEntries != 3 || st.Evictions != uint64(len(names)-3) {
		t.Errorf("stats %+v, want 3 entries, %d evictions", st, len(names)-3)
	}
	// A cold, early entry was evicted and is asked again.
	r.LookupA(ctx, names[1])
	if got := srv.Queries(names[1], dns.TypeA); got != 2 {
		t.Errorf("%d queries for evicted %s, want 2", got, names[1])
	}

	// A disabled cache asks every time.
	r2, _ := newTest(t, Config{CacheSize: -1}, srv)
	r2.LookupA(ctx, "v6only.example.test")
	r2.LookupA(ctx, "v6only.example.test")
	if got := srv.Queries("v6only.example.test", dns.TypeA); got != 2 {
		t.Errorf("no cache: %d queries, want 2", got)
	}
}

func TestCoalescing(t *testing.T) {
	srv := dnstest.Start(t, testZone, dnstest.Slow("slow.example.test", 200*time.Millisecond))
	r, _ := newTest(t, Config{Timeout: 2 * time.Second}, srv)
	const n = 50
	var wg sync.WaitGroup
	results := make([]MXResult, n)
	for i := range n {
		wg.Go(func() {
			results[i], _ = r.LookupMX(context.Background(), "slow.example.test")
		})
	}
	wg.Wait()
	for i, res := range results {
		if res.Status != Found || len(res.Records) != 1 {
			t.Fatalf("lookup %d: %+v", i, res)
		}
	}
	if got := srv.Queries("slow.example.test", dns.TypeMX); got != 1 {
		t.Errorf("%d concurrent lookups made %d queries, want 1", n, got)
	}
	if st := r.Stats(); st.Coalesced+st.CacheHits != n-1 {
		t.Errorf("stats %+v: coalesced+hits should be %d", st, n-1)
	}
}

func TestContextCanceled(t *testing.T) {
	srv := dnstest.Start(t, testZone, dnstest.Slow("slow.example.test", 500*time.Millisecond))
	r, _ := newTest(t, Config{Timeout: 2 * time.Second}, srv)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	res, err := r.LookupMX(ctx, "slow.example.test")
	if err != nil || res.Status != TempFail || res.Reason != ReasonCanceled || res.Rcode != -1 {
		t.Errorf("deadline: %+v %v, want TempFail canceled", res.Result, err)
	}

	done, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if res, _ := r.LookupA(done, "mx1.example.test"); res.Status != TempFail || res.Reason != ReasonCanceled {
		t.Errorf("canceled context: %+v", res.Result)
	}
	if got := srv.Queries("mx1.example.test", dns.TypeA); got != 0 {
		t.Errorf("canceled context sent %d queries", got)
	}

	// The query the impatient caller started goes on and is cached for the
	// next caller; the cancellation itself is not cached.
	res, _ = r.LookupMX(context.Background(), "slow.example.test")
	if res.Status != Found {
		t.Errorf("after cancellation: %+v", res.Result)
	}
	if got := srv.Queries("slow.example.test", dns.TypeMX); got != 1 {
		t.Errorf("%d queries, want 1", got)
	}
}

func TestFailover(t *testing.T) {
	tests := []struct {
		name string
		opt  dnstest.Option
	}{
		{"drop", dnstest.Drop(dnstest.AnyName)},
		{"servfail", dnstest.ServFail(dnstest.AnyName)},
		{"refused", dnstest.Refused(dnstest.AnyName)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := dnstest.Start(t, testZone, tt.opt)
			good := dnstest.Start(t, testZone)
			r, _ := newTest(t, Config{Attempts: 2, Timeout: 250 * time.Millisecond}, bad, good)
			ctx := context.Background()
			if res, _ := r.LookupMX(ctx, "example.test"); res.Status != Found {
				t.Fatalf("got %+v, want Found from the second server", res.Result)
			}
			if bad.Queries("example.test", dns.TypeMX) != 1 || good.Queries("example.test", dns.TypeMX) != 1 {
				t.Errorf("queries bad %d good %d, want 1 and 1", bad.Queries("example.test", dns.TypeMX), good.Queries("example.test", dns.TypeMX))
			}
			// The server that answered is tried first from now on.
			if res, _ := r.LookupA(ctx, "mx1.example.test"); res.Status != Found {
				t.Fatalf("got %+v", res.Result)
			}
			if bad.Queries("mx1.example.test", dns.TypeA) != 0 {
				t.Errorf("failing server still asked first")
			}
		})
	}
}

func TestNetworkError(t *testing.T) {
	// A closed UDP port on loopback: the kernel answers ICMP port unreachable.
	r, _ := newTest(t, Config{Servers: []string{"127.0.0.1:1"}, Attempts: 1})
	res, _ := r.LookupA(context.Background(), "example.test")
	if res.Status != TempFail || (res.Reason != ReasonNetwork && res.Reason != ReasonTimeout) {
		t.Errorf("closed port: %+v", res.Result)
	}
}

func TestConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		cfg     Config
		servers []string
		ok      bool
	}{
		{Config{Servers: []string{"127.0.0.1", "127.0.0.2:5353", "::1", "[::1]:5353"}},
			[]string{"127.0.0.1:53", "127.0.0.2:5353", "[::1]:53", "[::1]:5353"}, true},
		{Config{Servers: []string{"dns.example.test"}}, nil, false},
		{Config{Servers: []string{"127.0.0.1:0"}}, nil, false},
		{Config{Servers: []string{"127.0.0.1:99999"}}, nil, false},
		{Config{ResolvConf: write("a", "# comment\nsearch example.test\nnameserver 127.0.0.53\nnameserver bogus\nnameserver 2001:db8::53\noptions edns0\n")},
			[]string{"127.0.0.53:53", "[2001:db8::53]:53"}, true},
		{Config{ResolvConf: write("empty", "search example.test\n")}, []string{"127.0.0.1:53", "[::1]:53"}, true},
		{Config{ResolvConf: filepath.Join(dir, "missing")}, nil, false},
		{Config{Servers: []string{"127.0.0.1"}, Timeout: -1}, nil, false},
		{Config{Servers: []string{"127.0.0.1"}, Attempts: -1}, nil, false},
		{Config{Servers: []string{"127.0.0.1"}, NegativeTTL: -1}, nil, false},
	}
	for i, tt := range tests {
		r, err := New(tt.cfg)
		if (err == nil) != tt.ok {
			t.Errorf("%d: New err = %v, want ok=%v", i, err, tt.ok)
			continue
		}
		if err == nil && !slices.Equal(r.Servers(), tt.servers) {
			t.Errorf("%d: servers %q, want %q", i, r.Servers(), tt.servers)
		}
	}

	r, err := New(Config{Servers: []string{"127.0.0.1"}, ServFailTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if r.timeout != DefaultTimeout || r.attempts != DefaultAttempts || r.cache.capacity() != DefaultCacheSize ||
		r.negTTL != DefaultNegativeTTL || r.maxTTL != DefaultMaxTTL || r.failTTL != MaxServFailTTL {
		t.Errorf("defaults not applied: %+v", r)
	}
}

func TestMergeIP(t *testing.T) {
	found := func(a string, ttl time.Duration) IPResult {
		return IPResult{Result: Result{Status: Found, TTL: ttl}, Addrs: []netip.Addr{ip(a)}}
	}
	tf := IPResult{Result: Result{Status: TempFail, Rcode: 2, Reason: ReasonServFail}}
	nodata := IPResult{Result: Result{Status: NotFound, TTL: time.Minute}}
	nx := IPResult{Result: Result{Status: NotFound, NXDomain: true, Rcode: 3, TTL: time.Minute}}

	tests := []struct {
		v4, v6  IPResult
		status  Status
		partial bool
		nx      bool
		n       int
		ttl     time.Duration
	}{
		{found("192.0.2.1", time.Hour), found("2001:db8::1", time.Minute), Found, false, false, 2, time.Minute},
		{found("192.0.2.1", time.Hour), tf, Found, true, false, 1, time.Hour},
		{tf, found("2001:db8::1", time.Minute), Found, true, false, 1, time.Minute},
		{found("192.0.2.1", time.Hour), nodata, Found, false, false, 1, time.Minute},
		{tf, nodata, TempFail, false, false, 0, 0},
		{nodata, tf, TempFail, false, false, 0, 0},
		{nodata, nodata, NotFound, false, false, 0, time.Minute},
		{nx, nx, NotFound, false, true, 0, time.Minute},
	}
	for i, tt := range tests {
		got := mergeIP(tt.v4, tt.v6)
		if got.Status != tt.status || got.Partial != tt.partial || got.NXDomain != tt.nx || len(got.Addrs) != tt.n || got.TTL != tt.ttl {
			t.Errorf("%d: got %+v", i, got)
		}
		if got.Status == TempFail && got.Reason != ReasonServFail {
			t.Errorf("%d: reason %v", i, got.Reason)
		}
	}
}

func TestReverseName(t *testing.T) {
	tests := map[string]string{
		"192.0.2.10":         "10.2.0.192.in-addr.arpa.",
		"::ffff:192.0.2.10":  "10.2.0.192.in-addr.arpa.",
		"2001:db8::1":        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
		"fe80::1%eth0":       "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.ip6.arpa.",
		"2001:db8:ab::cdef":  "f.e.d.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.a.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
		"0.0.0.0":            "0.0.0.0.in-addr.arpa.",
		"255.255.255.255":    "255.255.255.255.in-addr.arpa.",
		"2001:db8::ffff:1:2": "2.0.0.0.1.0.0.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.",
	}
	for in, want := range tests {
		got := reverseName(ip(in))
		if got != want {
			t.Errorf("reverseName(%s) = %s, want %s", in, got, want)
		}
		if ref, _ := dns.ReverseAddr(ip(in).Unmap().WithZone("").String()); ref != got {
			t.Errorf("reverseName(%s) = %s, miekg says %s", in, got, ref)
		}
	}
}
