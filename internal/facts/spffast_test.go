package facts

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"blitiri.com.ar/go/spf"

	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/resolver"
	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

// TestSPFFastPathMatchesLibrary: for every record and client below, the
// fast path either hands over to the library or gives exactly the
// library's result and explanation.
func TestSPFFastPathMatchesLibrary(t *testing.T) {
	records := []string{
		`v=spf1 ip4:192.0.2.0/24 -all`,
		`v=spf1 ip4:192.0.2.1 ~all`,
		`V=SPF1 IP4:192.0.2.0/24 IP6:2001:DB8::/32 -ALL`,
		`v=spf1 ip6:2001:db8::/32 ip4:198.51.100.0/24 ?all`,
		`v=spf1 +ip4:192.0.2.0/25 -ip4:192.0.2.0/24 +all`,
		`v=spf1 ip4:0.0.0.0/0 ip6:::/0 -all`,
		`v=spf1 ip4:192.0.2.0/24`,
		`v=spf1`,
		`v=spf1  ip4:192.0.2.0/24   -all`,
		`v=spf1 ip4:192.0.2.0/33 -all`,
		`v=spf1 ip4:192.0.2.300 -all`,
		`v=spf1 ip4:198.51.100.1 ip4:bogus/8 -all`,
		`v=spf1 ip4:192.0.2.0/24 ip4:bogus/8 -all`,
		`v=spf1 -all ip4:bogus`,
		`v=spf1 exp=explain.%{d} ip4:192.0.2.0/24 -all`,
		`v=spf1 foo=bar ip4:192.0.2.0/24 -all`,
		`v=spf1 ip4:192.0.2.0/24 redirect=other.test`,
		`v=spf1 include:other.test -all`,
		`v=spf1 ip4:198.51.100.0/24 a -all`,
		`v=spf1 ip4:192.0.2.0/24 mx ptr -all`,
		`v=spf1 ip4:198.51.100.0/24 frobnicate -all`,
		`v=spf1 + -all`,
		`v=spf1 ip4:::ffff:192.0.2.1 -all`,
		`v=spf1 ip6:192.0.2.0/24 -all`,
		`v=spf1 ip4:2001:db8::/32 -all`,
		`v=spf10 -all`,
		`v=spf1x -all`,
	}
	clients := []string{"192.0.2.1", "192.0.2.200", "198.51.100.1", "203.0.113.9", "2001:db8::1", "2001:db9::1", "::ffff:192.0.2.1"}
	var z strings.Builder
	z.WriteString("$TTL 300\ntest. IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300\nother.test. IN TXT \"v=spf1 ip4:198.51.100.0/24 -all\"\n")
	for i, r := range records {
		fmt.Fprintf(&z, "r%d.test. IN TXT %q\n", i, r)
	}
	fmt.Fprintf(&z, "two.test. IN TXT %q\ntwo.test. IN TXT %q\n", records[0], records[1])
	fmt.Fprintf(&z, "other.test. IN A 192.0.2.1\n")
	srv := dnstest.Start(t, z.String())
	r, err := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: time.Second, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	fast := 0
	domains := []string{"two.test", "nowhere.test"}
	for i := range records {
		domains = append(domains, fmt.Sprintf("r%d.test", i))
	}
	for _, d := range domains {
		for _, c := range clients {
			ip := netip.MustParseAddr(c).Unmap()
			lib, lerr := spf.CheckHostWithSender(ip.AsSlice(), "helo.test", "a@"+d,
				spf.WithContext(context.Background()), spf.WithResolver(r.SPF()))
			why := ""
			if lerr != nil {
				why = lerr.Error()
			}
			got, gwhy, _, ok := fastSPF(context.Background(), r, ip, d)
			if !ok {
				continue
			}
			fast++
			if got != lib || gwhy != why {
				t.Errorf("%s (%s) from %s: fast path %s %q, library %s %q", d, recordOf(d, records), c, got, gwhy, lib, why)
			}
		}
	}
	if fast < 80 {
		t.Fatalf("only %d evaluations took the fast path", fast)
	}
}

func recordOf(d string, records []string) string {
	var i int
	if _, err := fmt.Sscanf(d, "r%d.test", &i); err == nil {
		return records[i]
	}
	return d
}

// TestSPFResultCache: the same (client, HELO, sender) is evaluated once
// within the record's TTL, also across transactions; another sender or
// client is evaluated again.
func TestSPFResultCache(t *testing.T) {
	src, srv := newSource(t)
	ask := func(ip, sender string) SPF {
		s := &Set{}
		s.Init(src, &policy.Request{Client: netip.MustParseAddr(ip), Sender: sender}, nil)
		return s.SPF(context.Background())
	}
	if r := ask("192.0.2.1", "a@inc.test"); r.Result != spf.Pass || r.Cached {
		t.Fatalf("first: %+v", r)
	}
	if r := ask("192.0.2.1", "a@inc.test"); r.Result != spf.Pass || !r.Cached {
		t.Fatalf("again: %+v", r)
	}
	if r := ask("192.0.2.2", "a@inc.test"); r.Cached {
		t.Fatalf("another client: %+v", r)
	}
	if r := ask("192.0.2.1", "b@inc.test"); r.Cached {
		t.Fatalf("another sender: %+v", r)
	}
	if n := srv.Queries("inc.test", 16); n != 1 {
		t.Fatalf("%d TXT queries for inc.test", n)
	}
}

// oneRecord is an spf.DNSResolver serving one TXT record for every name
// and nothing else.
type oneRecord string

func (o oneRecord) LookupTXT(context.Context, string) ([]string, error) {
	return []string{string(o)}, nil
}
func (oneRecord) LookupMX(_ context.Context, n string) ([]*net.MX, error) {
	return nil, &net.DNSError{Err: "no such host", Name: n, IsNotFound: true}
}
func (oneRecord) LookupIPAddr(_ context.Context, n string) ([]net.IPAddr, error) {
	return nil, &net.DNSError{Err: "no such host", Name: n, IsNotFound: true}
}
func (oneRecord) LookupAddr(_ context.Context, n string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: n, IsNotFound: true}
}

// FuzzSPFFastPath: for any record and client, the compiled record either
// hands over to the library or agrees with it.
func FuzzSPFFastPath(f *testing.F) {
	f.Add("ip4:192.0.2.0/24 -all", []byte{192, 0, 2, 1})
	f.Add("IP6:2001:db8::/32 ~ALL", []byte{0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add("exp=x ip4:1.2.3.4 ?all", []byte{1, 2, 3, 4})
	f.Add("ip4:1.2.3.4/40 -all", []byte{1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, rest string, ipb []byte) {
		ip, ok := netip.AddrFromSlice(ipb)
		if !ok {
			return
		}
		ip = ip.Unmap()
		record := "v=spf1 " + rest
		got, gwhy, ok := compileSPF(record).eval(ip)
		if !ok {
			return
		}
		lib, lerr := spf.CheckHostWithSender(ip.AsSlice(), "helo.test", "a@d.test", spf.WithResolver(oneRecord(record)))
		why := ""
		if lerr != nil {
			why = lerr.Error()
		}
		if got != lib || gwhy != why {
			t.Fatalf("%q from %s: fast path %s %q, library %s %q", record, ip, got, gwhy, lib, why)
		}
	})
}
