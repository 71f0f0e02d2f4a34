package lists

import (
	"math/rand/v2"
	"net/netip"
	"testing"
)

// naiveLookup is the obvious linear scan prefixIndex must agree with: the
// longest prefix containing ip, the earliest rule among equal prefixes.
func naiveLookup(ps []netip.Prefix, ip netip.Addr) (int32, bool) {
	best, bestBits := int32(-1), -1
	for i, p := range ps {
		if p.Contains(ip) && p.Bits() > bestBits {
			best, bestBits = int32(i), p.Bits()
		}
	}
	return best, best >= 0
}

func TestPrefixIndexMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for round := range 500 {
		// A few "networks" with nested and duplicate prefixes around them,
		// so that nesting, shared starts and ends, and duplicates occur.
		var ps []netip.Prefix
		var idxs []int32
		var probes []netip.Addr
		v6 := round%2 == 1
		for range 1 + rng.IntN(30) {
			var a netip.Addr
			if v6 {
				var b [16]byte
				b[0] = byte(rng.IntN(4)) | 0x20
				for j := 1; j < 16; j++ {
					b[j] = byte(rng.IntN(3)) * 0x7f
				}
				a = netip.AddrFrom16(b)
			} else {
				a = netip.AddrFrom4([4]byte{byte(rng.IntN(3)) * 0x7f, byte(rng.IntN(3)) * 0x7f, byte(rng.IntN(256)), byte(rng.IntN(256))})
			}
			bits := 1 + rng.IntN(a.BitLen())
			p := netip.PrefixFrom(a, bits).Masked()
			ps = append(ps, p)
			idxs = append(idxs, int32(len(idxs)))
			// Probe inside, at both edges and just outside.
			r := prefixRange(p, 0)
			for _, v := range []u128{r.first, r.last, r.first.dec(), r.last.inc()} {
				probes = append(probes, fromU128(v, v6))
			}
			probes = append(probes, a)
		}
		x := buildPrefixIndex(ps, idxs)
		for _, ip := range probes {
			got, gok := x.lookup(ip)
			want, wok := naiveLookup(ps, ip)
			if !gok {
				got = -1
			}
			if got != want || gok != wok {
				t.Fatalf("round %d: lookup(%v) = %d, %v; want %d, %v\nprefixes %v\nranges %v", round, ip, got, gok, want, wok, ps, x)
			}
		}
		// Ranges are sorted and disjoint.
		for _, rs := range [][]ipRange{x.v4, x.v6} {
			for i := 1; i < len(rs); i++ {
				if rs[i-1].last.cmp(rs[i].first) >= 0 {
					t.Fatalf("round %d: ranges overlap or are unsorted: %v", round, rs)
				}
			}
		}
	}
}

// fromU128 is the inverse of toU128 (wrapping at the ends of the space).
func fromU128(v u128, v6 bool) netip.Addr {
	if !v6 {
		x := uint32(v.lo)
		return netip.AddrFrom4([4]byte{byte(x >> 24), byte(x >> 16), byte(x >> 8), byte(x)})
	}
	var b [16]byte
	for i := range 8 {
		b[i] = byte(v.hi >> (56 - 8*i))
		b[8+i] = byte(v.lo >> (56 - 8*i))
	}
	return netip.AddrFrom16(b)
}

func TestPrefixIndexEdges(t *testing.T) {
	tests := []struct {
		prefixes []string
		ip       string
		want     int32 // -1: no match
	}{
		{[]string{"0.0.0.0/0"}, "255.255.255.255", 0},
		{[]string{"::/0"}, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0},
		{[]string{"8000::/1", "ffff::/16"}, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 1},
		{[]string{"8000::/1", "ffff::/16"}, "fffe::1", 0},
		{[]string{"8000::/1", "ffff::/16"}, "7fff::1", -1},
		{[]string{"255.255.255.255/32", "255.0.0.0/8"}, "255.255.255.254", 1},
		{[]string{"10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/8"}, "10.2.0.0", 0},
		{[]string{"10.1.0.0/16", "10.0.0.0/8"}, "10.1.255.255", 0},
		{[]string{"10.1.0.0/16", "10.0.0.0/8"}, "10.2.0.0", 1},
		{[]string{"192.0.2.1/32"}, "::ffff:c000:201", -1}, // callers unmap first
		{nil, "192.0.2.1", -1},
	}
	for _, tc := range tests {
		var ps []netip.Prefix
		var idxs []int32
		for i, s := range tc.prefixes {
			ps = append(ps, netip.MustParsePrefix(s))
			idxs = append(idxs, int32(i))
		}
		x := buildPrefixIndex(ps, idxs)
		got, ok := x.lookup(netip.MustParseAddr(tc.ip))
		if !ok {
			got = -1
		}
		if got != tc.want {
			t.Errorf("%v: lookup(%s) = %d, want %d", tc.prefixes, tc.ip, got, tc.want)
		}
	}
}
