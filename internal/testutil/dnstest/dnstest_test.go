package dnstest

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

const zone = `
$TTL 300
$ORIGIN example.test.
@       IN SOA ns hostmaster 1 3600 600 86400 60
@       IN MX  10 mx1
mx1     IN A   192.0.2.10
alias   IN CNAME mx1
loop1   IN CNAME loop2
loop2   IN CNAME loop1
out     IN CNAME www.elsewhere.invalid.
deep.a.b IN A  192.0.2.11
*.wild  IN A   192.0.2.12
short 5 IN TXT "five seconds"

$ORIGIN 2.0.192.in-addr.arpa.
@       IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 30
10      IN PTR mx1.example.test.
`

func query(t *testing.T, s *Server, name string, qtype uint16, tcp bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	c := &dns.Client{Timeout: 2 * time.Second}
	if tcp {
		c.Net = "tcp"
	}
	r, _, err := c.Exchange(m, s.Addr())
	if err != nil {
		t.Fatalf("query %s %s: %v", name, dns.TypeToString[qtype], err)
	}
	return r
}

func TestAnswers(t *testing.T) {
	s := Start(t, zone)
	if !strings.HasPrefix(s.Addr(), "127.0.0.1:") {
		t.Fatalf("Addr = %q, want loopback", s.Addr())
	}
	tests := []struct {
		name    string
		qtype   uint16
		rcode   int
		answers int
		soa     bool
	}{
		{"example.test", dns.TypeMX, dns.RcodeSuccess, 1, false},
		{"MX1.Example.Test", dns.TypeA, dns.RcodeSuccess, 1, false},
		{"mx1.example.test", dns.TypeAAAA, dns.RcodeSuccess, 0, true}, // NODATA
		{"nope.example.test", dns.TypeA, dns.RcodeNameError, 0, true}, // NXDOMAIN
		{"alias.example.test", dns.TypeA, dns.RcodeSuccess, 2, false}, // CNAME + A
		{"alias.example.test", dns.TypeCNAME, dns.RcodeSuccess, 1, false},
		{"a.b.example.test", dns.TypeA, dns.RcodeSuccess, 0, true}, // empty non-terminal
		{"deep.a.b.example.test", dns.TypeA, dns.RcodeSuccess, 1, false},
		{"x.wild.example.test", dns.TypeA, dns.RcodeSuccess, 1, false}, // wildcard
		{"loop1.example.test", dns.TypeA, dns.RcodeServerFailure, 0, false},
		{"out.example.test", dns.TypeA, dns.RcodeSuccess, 1, false}, // chain leaves our data
		{"10.2.0.192.in-addr.arpa", dns.TypePTR, dns.RcodeSuccess, 1, false},
		{"11.2.0.192.in-addr.arpa", dns.TypePTR, dns.RcodeNameError, 0, true},
		{"www.other.invalid", dns.TypeA, dns.RcodeRefused, 0, false},
	}
	for _, tt := range tests {
		for _, tcp := range []bool{false, true} {
			r := query(t, s, tt.name, tt.qtype, tcp)
			if r.Rcode != tt.rcode || len(r.Answer) != tt.answers {
				t.Errorf("%s %s tcp=%v: rcode %s, %d answers; want %s, %d\n%v", tt.name, dns.TypeToString[tt.qtype], tcp,
					dns.RcodeToString[r.Rcode], len(r.Answer), dns.RcodeToString[tt.rcode], tt.answers, r)
			}
			gotSOA := len(r.Ns) == 1 && r.Ns[0].Header().Rrtype == dns.TypeSOA
			if gotSOA != tt.soa {
				t.Errorf("%s %s: SOA in authority = %v, want %v", tt.name, dns.TypeToString[tt.qtype], gotSOA, tt.soa)
			}
		}
	}
	if got := s.Queries("example.test.", dns.TypeMX); got != 2 {
		t.Errorf("Queries(example.test MX) = %d, want 2", got)
	}
	if got := s.TCPQueries("EXAMPLE.test", dns.TypeMX); got != 1 {
		t.Errorf("TCPQueries(example.test MX) = %d, want 1", got)
	}

	// $TTL and explicit TTLs are honoured.
	if r := query(t, s, "mx1.example.test", dns.TypeA, false); r.Answer[0].Header().Ttl != 300 {
		t.Errorf("TTL = %d, want 300", r.Answer[0].Header().Ttl)
	}
	if r := query(t, s, "short.example.test", dns.TypeTXT, false); r.Answer[0].Header().Ttl != 5 {
		t.Errorf("TTL = %d, want 5", r.Answer[0].Header().Ttl)
	}
	// The wildcard answer is owned by the query name.
	if r := query(t, s, "x.wild.example.test", dns.TypeA, false); r.Answer[0].Header().Name != "x.wild.example.test." {
		t.Errorf("wildcard owner = %q", r.Answer[0].Header().Name)
	}
}

func TestTrouble(t *testing.T) {
	s := Start(t, zone,
		ServFail("sf.example.test"),
		Refused("ref.example.test"),
		Truncate("mx1.example.test"),
		Drop("drop.example.test"),
	)
	if r := query(t, s, "sf.example.test", dns.TypeA, false); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("ServFail: rcode %s", dns.RcodeToString[r.Rcode])
	}
	if r := query(t, s, "ref.example.test", dns.TypeA, false); r.Rcode != dns.RcodeRefused {
		t.Errorf("Refused: rcode %s", dns.RcodeToString[r.Rcode])
	}
	if r := query(t, s, "mx1.example.test", dns.TypeA, false); !r.Truncated || len(r.Answer) != 0 {
		t.Errorf("Truncate over UDP: TC=%v answers=%d", r.Truncated, len(r.Answer))
	}
	if r := query(t, s, "mx1.example.test", dns.TypeA, true); r.Truncated || len(r.Answer) != 1 {
		t.Errorf("Truncate over TCP: TC=%v answers=%d", r.Truncated, len(r.Answer))
	}

	c := &dns.Client{Timeout: 150 * time.Millisecond}
	m := new(dns.Msg)
	m.SetQuestion("drop.example.test.", dns.TypeA)
	_, _, err := c.Exchange(m, s.Addr())
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("Drop: err = %v, want a timeout", err)
	}

	s.Apply(Heal("drop.example.test"), Slow(AnyName, 100*time.Millisecond))
	start := time.Now()
	if r := query(t, s, "drop.example.test", dns.TypeA, false); r.Rcode != dns.RcodeNameError {
		t.Errorf("after Heal: rcode %s", dns.RcodeToString[r.Rcode])
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("Slow: answered after %v", d)
	}
}

func TestSet(t *testing.T) {
	s := Start(t, zone)
	s.Set(`
$ORIGIN example.test.
@   300 IN SOA ns hostmaster 2 3600 600 86400 60
new 300 IN A 192.0.2.99
`)
	if r := query(t, s, "new.example.test", dns.TypeA, false); len(r.Answer) != 1 {
		t.Errorf("after Set: %v", r)
	}
	if r := query(t, s, "mx1.example.test", dns.TypeA, false); r.Rcode != dns.RcodeNameError {
		t.Errorf("old data still served: %v", r)
	}
}

func TestEDNSAndNaturalTruncation(t *testing.T) {
	var b strings.Builder
	b.WriteString("$ORIGIN example.test.\n@ 300 IN SOA ns hostmaster 1 3600 600 86400 60\n")
	for range 10 { // about 1 KB of TXT: more than 512, less than 1232
		b.WriteString("big 300 IN TXT \"" + strings.Repeat("x", 100) + "\"\n")
	}
	s := Start(t, b.String())
	m := new(dns.Msg)
	m.SetQuestion("big.example.test.", dns.TypeTXT)
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, s.Addr())
	if err != nil || !r.Truncated {
		t.Fatalf("without EDNS: err %v, TC %v; want TC", err, r != nil && r.Truncated)
	}
	m.SetEdns0(1232, false)
	r, _, err = c.Exchange(m, s.Addr())
	if err != nil || r.Truncated || len(r.Answer) != 10 || r.IsEdns0() == nil {
		t.Fatalf("with EDNS: err %v, reply %v", err, r)
	}
}

func TestBadZone(t *testing.T) {
	if _, err := parseZone("example.test. 300 IN A 192.0.2.1\n"); err == nil {
		t.Error("zone without SOA accepted")
	}
	if _, err := parseZone("$ORIGIN example.test.\n@ IN SOA garbage\n"); err == nil {
		t.Error("malformed zone accepted")
	}
}

func TestNoEDNS(t *testing.T) {
	s := Start(t, zone, NoEDNS("mx1.example.test"))
	m := new(dns.Msg)
	m.SetQuestion("mx1.example.test.", dns.TypeA)
	m.SetEdns0(1232, false)
	c := &dns.Client{Timeout: 2 * time.Second}
	r, _, err := c.Exchange(m, s.Addr())
	if err != nil || r.Rcode != dns.RcodeFormatError || r.IsEdns0() != nil {
		t.Fatalf("with EDNS: %v %v", err, r)
	}
	if r := query(t, s, "mx1.example.test", dns.TypeA, false); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Fatalf("without EDNS: %v", r)
	}
}
