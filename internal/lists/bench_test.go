package lists

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"
)

// benchClients is the default list plus n random IPv4/IPv6 CIDRs of the
// lengths real feeds use, the size a site importing SPF-derived ranges
// (postwhite and the like) ends up with.
func benchClients(b *testing.B, n int) (*ClientList, []netip.Addr) {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var sb strings.Builder
	var inside []netip.Addr
	for i := range n {
		var p netip.Prefix
		if i%5 == 0 {
			var a [16]byte
			a[0], a[1] = 0x2a, byte(rng.IntN(256))
			for j := 2; j < 8; j++ {
				a[j] = byte(rng.IntN(256))
			}
			p = netip.PrefixFrom(netip.AddrFrom16(a), 32+16*rng.IntN(3)).Masked()
		} else {
			a := netip.AddrFrom4([4]byte{byte(1 + rng.IntN(223)), byte(rng.IntN(256)), byte(rng.IntN(256)), byte(rng.IntN(256))})
			p = netip.PrefixFrom(a, 16+rng.IntN(17)).Masked()
		}
		fmt.Fprintln(&sb, p)
		if i%100 == 0 {
			inside = append(inside, p.Addr().Next())
		}
	}
	extra, err := ParseClientList("bench", strings.NewReader(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	return MergeClients(DefaultClients(), extra), inside
}

func BenchmarkClientMatch(b *testing.B) {
	l, inside := benchClients(b, 5000)
	cases := []struct {
		name string
		ip   netip.Addr
		host string
	}{
		// The common case: an unlisted client, every index consulted.
		{"miss/unknown", netip.MustParseAddr("203.0.113.9"), "unknown"},
		{"miss/name", netip.MustParseAddr("203.0.113.9"), "mail.example.org"},
		{"miss/ipv6", netip.MustParseAddr("2001:db8::25"), "mx.example.net"},
		{"hit/cidr", inside[7], "unknown"},
		{"hit/name", netip.MustParseAddr("203.0.113.9"), "mail-wr1-f54.google.com"},
		{"hit/regexp", netip.MustParseAddr("203.0.113.9"), "mx7.bla.evanzo-server.de"},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l.Match(c.ip, c.host)
			}
		})
	}
}

func BenchmarkAddressMatch(b *testing.B) {
	l := DefaultRecipients()
	b.ReportAllocs()
	for b.Loop() {
		l.Match("Some.User+tag@Example.COM")
	}
}

func BenchmarkParseDefaults(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseClientList("d", strings.NewReader(defaultClientsText)); err != nil {
			b.Fatal(err)
		}
	}
}
