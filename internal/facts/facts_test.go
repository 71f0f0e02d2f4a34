package facts

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"blitiri.com.ar/go/spf"

	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/resolver"
	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

// zone has a name for every case the DNS checks meet.
const zone = `
$TTL 300
test. IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
mx.test. IN MX 10 mail.mx.test.
mail.mx.test. IN A 192.0.2.25
aonly.test. IN A 192.0.2.26
aaaaonly.test. IN AAAA 2001:db8::26
nullmx.test. IN MX 0 .
nodata.test. IN TXT "no mail here"
servfail.test. IN MX 10 mail.mx.test.
slow.test. IN MX 10 mail.mx.test.

; SPF
ip4.test. IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
ip6.test. IN TXT "v=spf1 ip6:2001:db8::/32 -all"
a.test. IN TXT "v=spf1 a -all"
a.test. IN A 192.0.2.30
mxm.test. IN TXT "v=spf1 mx -all"
mxm.test. IN MX 10 mail.mx.test.
inc.test. IN TXT "v=spf1 include:ip4.test -all"
redir.test. IN TXT "v=spf1 redirect=ip4.test"
soft.test. IN TXT "v=spf1 ~all"
neutral.test. IN TXT "v=spf1 ?all"
bad.test. IN TXT "v=spf1 frobnicate -all"
tempspf.test. IN MX 10 mail.mx.test.
helo.mx.test. IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
loop1.test. IN TXT "v=spf1 include:l1.test include:l2.test include:l3.test include:l4.test include:l5.test include:l6.test -all"
l1.test. IN TXT "v=spf1 a:x1.test a:x2.test ?all"
l2.test. IN TXT "v=spf1 a:x3.test a:x4.test ?all"
l3.test. IN TXT "v=spf1 a:x1.test ?all"
l4.test. IN TXT "v=spf1 ?all"
l5.test. IN TXT "v=spf1 ?all"
l6.test. IN TXT "v=spf1 ip4:192.0.2.0/24 ?all"
x1.test. IN A 198.51.100.1
x2.test. IN A 198.51.100.2
x3.test. IN A 198.51.100.3
x4.test. IN A 198.51.100.4

; reverse DNS
good.test. IN A 192.0.2.10
liar.test. IN A 192.0.2.99
in-addr.arpa. IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
10.2.0.192.in-addr.arpa. IN PTR good.test.
11.2.0.192.in-addr.arpa. IN PTR liar.test.
12.2.0.192.in-addr.arpa. IN PTR servfail.test.
`

func newSource(t *testing.T, opts ...dnstest.Option) (*Source, *dnstest.Server) {
	t.Helper()
	srv := dnstest.Start(t, zone, opts...)
	r, err := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: 300 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	return &Source{R: r}, srv
}

var troubled = []dnstest.Option{
	dnstest.ServFail("servfail.test"), dnstest.ServFail("tempspf.test"),
	dnstest.Drop("slow.test"),
}

func set(src *Source, r *policy.Request) *Set {
	s := &Set{}
	s.Init(src, r, nil)
	return s
}

func TestSenderDomain(t *testing.T) {
	src, _ := newSource(t, troubled...)
	tests := []struct {
		sender string
		want   Status
	}{
		{"a@mx.test", OK},
		{"a@aonly.test", OK},
		{"a@aaaaonly.test", OK},
		{"a@nullmx.test", NullMX},
		{"a@nowhere.test", Missing},
		{"a@nodata.test", Missing},
		{"a@servfail.test", TempFail},
		{"a@slow.test", TempFail},
		{"", Skipped},
		{"a@[192.0.2.1]", Skipped},
		{"a@MX.TEST.", OK},
	}
	for _, tt := range tests {
		t.Run(tt.sender, func(t *testing.T) {
			got := set(src, &policy.Request{Sender: tt.sender}).SenderDomain(context.Background())
			if got.Status != tt.want {
				t.Fatalf("got %v (%s), want %v", got.Status, got.Via, tt.want)
			}
		})
	}
}

// TestTimeoutWithinBudget: a server that never answers costs at most the
// request's budget, never the resolver's full timeout schedule.
func TestTimeoutWithinBudget(t *testing.T) {
	srv := dnstest.Start(t, zone, dnstest.Drop(dnstest.AnyName))
	r, _ := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: 5 * time.Second, Attempts: 2})
	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	start := time.Now()
	got := set(&Source{R: r}, &policy.Request{Sender: "a@mx.test"}).SenderDomain(ctx)
	if got.Status != TempFail {
		t.Fatalf("got %v", got.Status)
	}
	if d := time.Since(start); d > 350*time.Millisecond {
		t.Fatalf("took %v; the budget leaves a quarter of 400ms", d)
	}
}

func TestReverseDNS(t *testing.T) {
	src, _ := newSource(t, troubled...)
	tests := []struct {
		name       string
		ip, cn, rn string
		want       Status
		wantName   string
	}{
		{"postfix verified", "192.0.2.200", "mail.example.org", "mail.example.org", OK, "mail.example.org"},
		{"own lookup confirms", "192.0.2.10", "", "", OK, "good.test"},
		{"postfix unknown, own lookup confirms", "192.0.2.10", "unknown", "good.test", OK, "good.test"},
		{"ptr without forward match", "192.0.2.11", "unknown", "liar.test", Mismatch, "liar.test"},
		{"no ptr", "192.0.2.13", "unknown", "unknown", Missing, ""},
		{"forward lookup fails", "192.0.2.12", "", "", TempFail, "servfail.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ip := netip.MustParseAddr(tt.ip)
			got := set(src, &policy.Request{Client: ip, ClientName: tt.cn, ReverseClientName: tt.rn}).ReverseDNS(context.Background())
			if got.Status != tt.want || got.Name != tt.wantName {
				t.Fatalf("got %v %q (%s), want %v %q", got.Status, got.Name, got.Why, tt.want, tt.wantName)
			}
		})
	}
}

func TestSPF(t *testing.T) {
	src, _ := newSource(t, troubled...)
	tests := []struct {
		ip, helo, sender string
		want             spf.Result
	}{
		{"192.0.2.1", "x", "a@ip4.test", spf.Pass},
		{"198.51.100.1", "x", "a@ip4.test", spf.Fail},
		{"2001:db8::1", "x", "a@ip6.test", spf.Pass},
		{"2001:db9::1", "x", "a@ip6.test", spf.Fail},
		{"192.0.2.30", "x", "a@a.test", spf.Pass},
		{"192.0.2.31", "x", "a@a.test", spf.Fail},
		{"192.0.2.25", "x", "a@mxm.test", spf.Pass},
		{"192.0.2.26", "x", "a@mxm.test", spf.Fail},
		{"192.0.2.1", "x", "a@inc.test", spf.Pass},
		{"198.51.100.1", "x", "a@inc.test", spf.Fail},
		{"192.0.2.1", "x", "a@redir.test", spf.Pass},
		{"198.51.100.1", "x", "a@redir.test", spf.Fail},
		{"192.0.2.1", "x", "a@soft.test", spf.SoftFail},
		{"192.0.2.1", "x", "a@neutral.test", spf.Neutral},
		{"192.0.2.1", "x", "a@mx.test", spf.None},
		{"192.0.2.1", "x", "a@nowhere.test", spf.None},
		{"192.0.2.1", "x", "a@bad.test", spf.PermError},
		{"192.0.2.1", "x", "a@tempspf.test", spf.TempError},
		{"192.0.2.1", "x", "a@loop1.test", spf.PermError}, // 11 lookups: over the limit of 10
		{"192.0.2.1", "helo.mx.test", "", spf.Pass},       // null sender: HELO identity
		{"198.51.100.1", "helo.mx.test", "", spf.Fail},
		{"192.0.2.1", "[192.0.2.1]", "", spf.None},
	}
	for _, tt := range tests {
		t.Run(tt.sender+"/"+tt.ip, func(t *testing.T) {
			got := set(src, &policy.Request{Client: netip.MustParseAddr(tt.ip), HeloName: tt.helo, Sender: tt.sender}).SPF(context.Background())
			if got.Result != tt.want {
				t.Fatalf("got %v (%s), want %v", got.Result, got.Why, tt.want)
			}
		})
	}
}

type txnMap map[string]any

func (m txnMap) Get(k string) any                     { return m[k] }
func (m txnMap) Update(k string, f func(old any) any) { m[k] = f(m[k]) }

// TestSPFOncePerTransaction: the second RCPT of a transaction reuses the
// result; a new sender in the same transaction (RSET) is evaluated again.
func TestSPFOncePerTransaction(t *testing.T) {
	src, srv := newSource(t)
	txn := txnMap{}
	req := &policy.Request{Client: netip.MustParseAddr("192.0.2.1"), Sender: "a@inc.test"}
	for i := range 3 {
		s := &Set{}
		s.Init(src, req, txn)
		if r := s.SPF(context.Background()); r.Result != spf.Pass || r.Cached != (i > 0) {
			t.Fatalf("request %d: %+v", i, r)
		}
	}
	if n := srv.Queries("inc.test", 16); n != 1 {
		t.Fatalf("%d TXT queries for inc.test", n)
	}
	s := &Set{}
	s.Init(src, &policy.Request{Client: req.Client, Sender: "b@ip4.test"}, txn)
	if r := s.SPF(context.Background()); r.Cached {
		t.Fatal("another sender got the cached result")
	}
}

func TestOrgDomain(t *testing.T) {
	for in, want := range map[string]string{
		"mail-yw1-f41.google.com":   "google.com",
		"mx.bbc.co.uk.":             "bbc.co.uk",
		"a.b.example.com.au":        "example.com.au",
		"localhost":                 "localhost",
		"example.org":               "example.org",
		"MAIL.Example.ORG":          "example.org",
		"smtp.mail.example.city.us": "city.us", // not on the list: groups less, never more
	} {
		if got := OrgDomain(in); got != want {
			t.Errorf("OrgDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDynamic(t *testing.T) {
	ip := netip.MustParseAddr("203.0.113.45")
	for name, want := range map[string]bool{
		"ip-203-0-113-45.ec2.example.com":    true,
		"45.113.0.203.static.isp.example":    true,
		"host45-113.pool.isp.example":        true,
		"dsl-customer.isp.example":           true,
		"cb00712d.dyn.isp.example":           true,
		"mail.example.org":                   false,
		"mail-yw1-f41.google.com":            false,
		"smtp2.mailgun.example":              false,
		"cpe-203-000-113-045.cable.isp.test": true,
	} {
		if got, why := Dynamic(name, ip); got != want {
			t.Errorf("Dynamic(%q) = %v (%s), want %v", name, got, why, want)
		}
	}
}

func TestRiskAndNotes(t *testing.T) {
	src, _ := newSource(t)
	s := set(src, &policy.Request{Client: netip.MustParseAddr("192.0.2.13"), ClientName: "unknown", Sender: "a@soft.test"})
	s.AddRisk("new", 1)
	r := s.Risk(context.Background())
	if r.Score != 6 || r.String() != "6: no_ptr=3 spf_softfail=2 new=1" {
		t.Fatalf("risk %v", r)
	}
	var notes []string
	s.Note(context.Background(), func(n, v string) { notes = append(notes, n+"="+v) })
	if len(notes) != 2 || !strings.HasPrefix(notes[0], "risk=6") || !strings.Contains(notes[1], "spf=softfail") {
		t.Fatalf("notes %q", notes)
	}
	clean := set(src, &policy.Request{Client: netip.MustParseAddr("192.0.2.1"), ClientName: "mail.ip4.test", Sender: "a@ip4.test"})
	if r := clean.Risk(context.Background()); r.Score != 0 {
		t.Fatalf("identified sender: risk %v", r)
	}
}

func TestNoResolverFailsSafe(t *testing.T) {
	s := set(nil, &policy.Request{Client: netip.MustParseAddr("192.0.2.1"), Sender: "a@x.test"})
	if s.SenderDomain(context.Background()).Status != TempFail || s.ReverseDNS(context.Background()).Status != TempFail {
		t.Fatal("without a resolver every fact must be TempFail")
	}
}
