package lists

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func mustClients(t testing.TB, entries ...string) *ClientList {
	t.Helper()
	l, err := NewClientList(entries)
	if err != nil {
		t.Fatalf("NewClientList(%q): %v", entries, err)
	}
	return l
}

// addr parses an address for table tests; "" is the invalid zero Addr.
func addr(s string) netip.Addr {
	if s == "" {
		return netip.Addr{}
	}
	return netip.MustParseAddr(s)
}

func TestClientMatch(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		ip      string
		host    string
		want    string // matching entry; "" means no match
	}{
		// Addresses.
		{"ipv4 exact", []string{"192.0.2.1"}, "192.0.2.1", "", "192.0.2.1"},
		{"ipv4 other", []string{"192.0.2.1"}, "192.0.2.2", "", ""},
		{"ipv6 exact", []string{"2001:db8::1"}, "2001:db8::1", "", "2001:db8::1"},
		{"ipv6 other spelling", []string{"2001:0db8:0000::0001"}, "2001:db8::1", "", "2001:0db8:0000::0001"},
		{"ipv6 other", []string{"2001:db8::1"}, "2001:db8::2", "", ""},
		{"ipv4 entry vs ipv6 client", []string{"0.0.0.1"}, "::1", "", ""},
		{"mapped client", []string{"192.0.2.1"}, "::ffff:192.0.2.1", "", "192.0.2.1"},
		{"mapped entry", []string{"::ffff:192.0.2.1"}, "192.0.2.1", "", "::ffff:192.0.2.1"},
		{"zoned client", []string{"fe80::1"}, "fe80::1%eth0", "", "fe80::1"},
		{"invalid ip", []string{"0.0.0.0/1", "128.0.0.0/1"}, "", "", ""},

		// CIDR.
		{"cidr v4 in", []string{"192.0.2.0/24"}, "192.0.2.200", "", "192.0.2.0/24"},
		{"cidr v4 out", []string{"192.0.2.0/24"}, "192.0.3.1", "", ""},
		{"cidr v4 host bits", []string{"192.0.2.77/24"}, "192.0.2.1", "", "192.0.2.77/24"},
		{"cidr v4 /27 edge in", []string{"51.4.80.0/27"}, "51.4.80.31", "", "51.4.80.0/27"},
		{"cidr v4 /27 edge out", []string{"51.4.80.0/27"}, "51.4.80.32", "", ""},
		{"cidr v6 in", []string{"2001:db8::/32"}, "2001:db8:ffff::1", "", "2001:db8::/32"},
		{"cidr v6 out", []string{"2001:db8::/32"}, "2001:db9::1", "", ""},
		{"cidr v6 leading zeros", []string{"2a01:4180:4051:0800::/64"}, "2a01:4180:4051:800::25", "", "2a01:4180:4051:0800::/64"},
		{"cidr mapped entry", []string{"::ffff:10.0.0.0/104"}, "10.9.9.9", "", "::ffff:10.0.0.0/104"},
		{"longest prefix wins", []string{"10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24"}, "10.1.2.3", "", "10.1.2.0/24"},
		{"shorter when longer misses", []string{"10.0.0.0/8", "10.1.2.0/24"}, "10.9.2.3", "", "10.0.0.0/8"},

		// postgrey's partial IPv4.
		{"partial /24", []string{"1.2.3"}, "1.2.3.4", "", "1.2.3"},
		{"partial /24 not textual", []string{"1.2.3"}, "1.2.34.5", "", ""},
		{"partial /24 trailing dot", []string{"1.2.3."}, "1.2.3.250", "", "1.2.3."},
		{"partial /16", []string{"172.16"}, "172.16.99.1", "", "172.16"},
		{"partial /16 out", []string{"172.16"}, "172.17.0.1", "", ""},
		{"partial /8 dot", []string{"10."}, "10.200.1.1", "", "10."},
		{"partial /8 bare", []string{"10"}, "10.0.0.1", "", "10"},
		{"partial /8 not 100", []string{"10"}, "100.0.0.1", "", ""},

		// Names: suffix match on label boundaries.
		{"domain itself", []string{"google.com"}, "", "google.com", "google.com"},
		{"domain sub", []string{"google.com"}, "", "mail-wr1-f54.google.com", "google.com"},
		{"domain deep sub", []string{"google.com"}, "", "a.b.c.google.com", "google.com"},
		{"domain not boundary", []string{"google.com"}, "", "notgoogle.com", ""},
		{"domain not prefix", []string{"google.com"}, "", "google.com.evil.example", ""},
		{"domain not parent", []string{"mail.google.com"}, "", "google.com", ""},
		{"domain case", []string{"Google.COM"}, "", "MAIL.google.Com", "Google.COM"},
		{"domain trailing dot name", []string{"google.com"}, "", "mail.google.com.", "google.com"},
		{"domain trailing dot entry", []string{"google.com."}, "", "mail.google.com", "google.com."},
		{"subs only: sub", []string{".google.com"}, "", "mail.google.com", ".google.com"},
		{"subs only: itself", []string{".google.com"}, "", "google.com", ""},
		{"subs only: boundary", []string{".google.com"}, "", "notgoogle.com", ""},
		{"wildcard = subs", []string{"*.google.com"}, "", "mx.google.com", "*.google.com"},
		{"wildcard not itself", []string{"*.google.com"}, "", "google.com", ""},
		{"most specific name", []string{"example.com", "mx.example.com"}, "", "a.mx.example.com", "mx.example.com"},
		{"ip first", []string{"example.com", "192.0.2.1"}, "192.0.2.1", "mx.example.com", "192.0.2.1"},
		{"name when ip misses", []string{"example.com", "192.0.2.1"}, "192.0.2.2", "mx.example.com", "example.com"},

		// Names are only ever the verified name; placeholders never match.
		{"unknown never", []string{"/.*/", "unknown.example"}, "", "unknown", ""},
		{"UNKNOWN never", []string{"/.*/"}, "", "UNKNOWN", ""},
		{"empty never", []string{"/.*/", "/^$/"}, "", "", ""},
		{"longer than dns", []string{"/.*/", "example.com"}, "", strings.Repeat("a.", 127) + "example.com", ""},
		{"unknown still ip", []string{"/.*/", "192.0.2.1"}, "192.0.2.1", "unknown", "192.0.2.1"},

		// Regexps: on the name, case-insensitive, unanchored unless anchored.
		{"regexp", []string{`/^mail\d+\.telekom\.de$/`}, "", "mail12.telekom.de", `/^mail\d+\.telekom\.de$/`},
		{"regexp case", []string{`/^mail\d+\.telekom\.de$/`}, "", "MAIL12.Telekom.DE", `/^mail\d+\.telekom\.de$/`},
		{"regexp anchored miss", []string{`/^mail\d+\.telekom\.de$/`}, "", "xmail12.telekom.de", ""},
		{"regexp suffix miss", []string{`/^mail\d+\.telekom\.de$/`}, "", "mail12.telekom.de.example", ""},
		{"regexp unanchored", []string{`/out/`}, "", "mx-out-3.example.net", `/out/`},
		{"regexp perlisms", []string{`/^(?:smtp\w*|postfix)[0-9]+-g[0-9]+\.free\.fr$/`}, "", "smtpfb1-g21.free.fr", `/^(?:smtp\w*|postfix)[0-9]+-g[0-9]+\.free\.fr$/`},
		{"regexp lazy", []string{`/^.*?\.server\.arvato-systems\.de$/`}, "", "x1.server.arvato-systems.de", `/^.*?\.server\.arvato-systems\.de$/`},
		{"regexp not on ip", []string{`/^192\.0\.2\.1$/`}, "192.0.2.1", "", ""},
		{"regexp kelvin sign", []string{`/k$/`}, "", "example.\u212a", `/k$/`},
		{"regexp order", []string{`/a/`, `/b/`}, "", "ab.example", `/a/`},

		// Comments and whitespace.
		{"inline comment", []string{"example.com # the example"}, "", "example.com", "example.com"},
		{"surrounding space", []string{"  example.com\t"}, "", "example.com", "example.com"},
		{"blank and comment only", []string{"", "   ", "# nothing"}, "192.0.2.1", "example.com", ""},

		{"empty list", nil, "192.0.2.1", "example.com", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := mustClients(t, tc.entries...)
			got, ok := l.Match(addr(tc.ip), tc.host)
			if ok != (tc.want != "") || got != tc.want {
				t.Errorf("Match(%q, %q) = %q, %v; want %q", tc.ip, tc.host, got, ok, tc.want)
			}
		})
	}
}

func TestClientNil(t *testing.T) {
	var l *ClientList
	if e, ok := l.Match(addr("192.0.2.1"), "example.com"); ok {
		t.Errorf("nil list matched %q", e)
	}
	if l.Len() != 0 {
		t.Errorf("nil Len = %d", l.Len())
	}
	var zero ClientList
	if e, ok := zero.Match(addr("192.0.2.1"), "example.com"); ok {
		t.Errorf("zero list matched %q", e)
	}
}

func TestClientParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string // one substring per expected error, in order
	}{
		{"bad regexp", "ok.example\n/^(unclosed$/\n", []string{`clients.txt:2: invalid entry "/^(unclosed$/": regexp does not compile (Go RE2 syntax): missing closing )`}},
		{"perl lookahead", "/^(?!foo)bar$/", []string{`clients.txt:1: invalid entry "/^(?!foo)bar$/": regexp does not compile`}},
		{"empty regexp", "\n\n//", []string{`clients.txt:3: invalid entry "//": empty regexp`}},
		{"octet range", "999.1.1.1", []string{`clients.txt:1: invalid entry "999.1.1.1": not an IPv4 address: octet "999" is out of range`}},
		{"too many octets", "1.2.3.4.5", []string{`:1: invalid entry "1.2.3.4.5": not an IPv4 address: too many octets`}},
		{"full with dot", "1.2.3.4.", []string{`too many octets`}},
		{"empty octet", "1..3", []string{`empty octet`}},
		{"leading zero", "010.1.2.3", []string{`leading zero`}},
		{"cidr length", "192.0.2.0/33", []string{`:1: invalid entry "192.0.2.0/33": not an IP address or CIDR prefix`}},
		{"cidr partial", "10/8", []string{`invalid entry "10/8": not an IP address or CIDR prefix`}},
		{"cidr zero", "0.0.0.0/0", []string{`a /0 prefix would exempt every client`}},
		{"cidr v6 zero", "::/0", []string{`a /0 prefix would exempt every client`}},
		{"bad ipv6", "2001:db8:::1", []string{`invalid entry "2001:db8:::1": not an IP address`}},
		{"zoned", "fe80::1%eth0", []string{`zoned`}},
		{"space", "example.com other.example", []string{`contains whitespace`}},
		{"tld", "com", []string{`invalid entry "com": single-label name`}},
		{"unknown", "unknown", []string{`single-label`}},
		{"unknown fqdn ok but placeholder", "unknown.", []string{`single-label`}},
		{"empty label", "a..example.com", []string{`empty label`}},
		{"bad char", "mail@example.com", []string{`character '@' is not allowed`}},
		{"mid wildcard", "mail.*.example.com", []string{`wildcards are only allowed as a leading`}},
		{"non-ascii", "bücher.example", []string{`xn-- form`}},
		{"dot only", ".", []string{`empty name`}},
		{"long label", strings.Repeat("a", 64) + ".example", []string{`label longer than 63`}},
		{"several", "good.example\nbad name\n\n10/8\n", []string{`clients.txt:2:`, `clients.txt:4:`}},
		{"line too long", "ok.example\n" + strings.Repeat("x", maxLineLen+1), []string{`clients.txt:2: line longer than`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := ParseClientList("clients.txt", strings.NewReader(tc.input))
			if err == nil {
				t.Fatalf("no error; list has %d entries", l.Len())
			}
			errs := joined(err)
			if len(errs) != len(tc.want) {
				t.Fatalf("got %d errors, want %d: %v", len(errs), len(tc.want), err)
			}
			for i, w := range tc.want {
				var pe *ParseError
				if !errors.As(errs[i], &pe) || pe.Line < 1 {
					t.Errorf("error %d is %T without a line: %v", i, errs[i], errs[i])
				}
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q; want it to contain %q", i, errs[i], w)
				}
			}
		})
	}
}

// joined unpacks an errors.Join result.
func joined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestClientParseErrorCap(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 25; i++ {
		b.WriteString("bad entry\n")
	}
	_, err := ParseClientList("f", strings.NewReader(b.String()))
	errs := joined(err)
	if len(errs) != maxReported+1 {
		t.Fatalf("got %d errors, want %d", len(errs), maxReported+1)
	}
	last := errs[len(errs)-1].Error()
	if want := "f:11: 15 more invalid entries from this line on not shown"; last != want {
		t.Errorf("summary = %q, want %q", last, want)
	}
}

func TestClientInlineErrors(t *testing.T) {
	_, err := NewClientList([]string{"example.com", "# comment", "1.2.3.999"})
	if err == nil || !strings.HasPrefix(err.Error(), `inline:3: invalid entry "1.2.3.999"`) {
		t.Errorf("err = %v", err)
	}
}

func TestClientLookupSource(t *testing.T) {
	l, err := ParseClientList("my.txt", strings.NewReader("# header\n\nexample.com # why\n"))
	if err != nil {
		t.Fatal(err)
	}
	e, ok := l.Lookup(netip.Addr{}, "mx.example.com")
	want := Entry{Text: "example.com", Source: "my.txt", Line: 3}
	if !ok || e != want {
		t.Errorf("Lookup = %+v, %v; want %+v", e, ok, want)
	}
	if got := e.String(); got != "example.com (my.txt:3)" {
		t.Errorf("String = %q", got)
	}
}

func TestMergeClients(t *testing.T) {
	a, _ := ParseClientList("a", strings.NewReader("example.com\n192.0.2.0/24\n"))
	b, _ := ParseClientList("b", strings.NewReader("example.com\n198.51.100.7\n/^mx\\d\\.example\\.org$/\n"))
	m := MergeClients(a, nil, b)
	if m.Len() != 5 {
		t.Errorf("Len = %d, want 5", m.Len())
	}
	for _, tc := range []struct {
		ip, host string
		want     Entry
	}{
		{"", "mx.example.com", Entry{"example.com", "a", 1}}, // earlier list wins
		{"192.0.2.9", "", Entry{"192.0.2.0/24", "a", 2}},
		{"198.51.100.7", "", Entry{"198.51.100.7", "b", 2}},
		{"", "mx1.example.org", Entry{`/^mx\d\.example\.org$/`, "b", 3}},
	} {
		if e, ok := m.Lookup(addr(tc.ip), tc.host); !ok || e != tc.want {
			t.Errorf("Lookup(%q, %q) = %+v, %v; want %+v", tc.ip, tc.host, e, ok, tc.want)
		}
	}
	// The inputs are unchanged: lists are immutable.
	if _, ok := a.Match(addr("198.51.100.7"), ""); ok {
		t.Error("merge changed its input")
	}
	if MergeClients().Len() != 0 {
		t.Error("empty merge not empty")
	}
}

func TestLiteralSuffix(t *testing.T) {
	tests := []struct{ re, want string }{
		{`^mail\d+\.telekom\.de$`, ".telekom.de"},
		{`^MAIL\d+\.Telekom\.DE$`, ".telekom.de"},
		{`\.example\.com$`, ".example.com"},
		{`^example\.com$`, "example.com"},
		{`example`, ""},
		{`^a$|^b$`, ""},
		{`(foo)$`, ""},
		{`x\.(com|net)$`, ""},
		{`ü$`, ""},
	}
	for _, tc := range tests {
		if got := literalSuffix(tc.re); got != tc.want {
			t.Errorf("literalSuffix(%q) = %q, want %q", tc.re, got, tc.want)
		}
	}
}

// Lists are shared by every connection without locks; run under -race.
func TestClientConcurrentMatch(t *testing.T) {
	l := MergeClients(DefaultClients(), mustClients(t, "192.0.2.0/24", "/^mx\\d+\\.example\\.org$/"))
	done := make(chan bool)
	for g := range 4 {
		go func() {
			for i := range 500 {
				l.Match(addr("192.0.2.9"), "mx1.example.org")
				l.Match(addr("203.0.113.1"), "mail-wr1-f54.google.com")
				l.Match(netip.AddrFrom4([4]byte{10, byte(g), byte(i), 1}), "unknown")
			}
			done <- true
		}()
	}
	for range 4 {
		<-done
	}
}

// TestRegexpIndexMatchesScan checks the last-label index of regexps
// against the plain scan in file order, over names built from every
// default regexp's literal suffix and a few that no entry can match.
func TestRegexpIndexMatchesScan(t *testing.T) {
	l := DefaultClients()
	scan := func(name string) *listRegexp {
		for _, re := range l.res {
			if re.match(name, isASCII(name)) {
				return re
			}
		}
		return nil
	}
	names := []string{"mail.example.org", "de", "x.de", "host.example", "mx7.bla.evanzo-server.de", "a.b.c.d.e.f", "ünïcode.de"}
	for _, re := range l.res {
		if re.suffix == "" {
			continue
		}
		s := strings.TrimPrefix(re.suffix, ".")
		for _, p := range []string{"", "mail1.", "mx7.bla.", "smtp-out-12.", "a.b.", "outbound-1-2-3-4."} {
			names = append(names, p+s)
		}
	}
	hits := 0
	for _, n := range names {
		want, got := scan(n), l.matchRegexp(n)
		if want != got {
			t.Errorf("%q: index found %v, scan %v", n, got, want)
		}
		if want != nil {
			hits++
		}
	}
	if hits == 0 {
		t.Fatal("no name matched any default regexp: the test proves nothing")
	}
	t.Logf("%d names, %d regexp hits", len(names), hits)
}
