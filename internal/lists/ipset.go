package lists

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
)

// prefixIndex answers "which entry covers this address?" by binary search
// over disjoint address ranges, so a lookup costs O(log n) whatever the
// number and lengths of the prefixes: no scan over thousands of CIDRs.
//
// Prefixes are either nested or disjoint, so the address space they cover
// splits into ranges each owned by the most specific covering prefix;
// build computes that split once, when the (immutable) list is built.
type prefixIndex struct {
	v4, v6 []ipRange
}

// u128 is an address as a number; IPv4 uses the low 32 bits.
type u128 struct{ hi, lo uint64 }

func (a u128) cmp(b u128) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

func (a u128) inc() u128 {
	if a.lo++; a.lo == 0 {
		a.hi++
	}
	return a
}

func (a u128) dec() u128 {
	if a.lo--; a.lo == ^uint64(0) {
		a.hi--
	}
	return a
}

// ipRange is the closed range [first, last], owned by rule idx.
type ipRange struct {
	first, last u128
	idx         int32
}

// toU128 converts an unmapped address.
func toU128(a netip.Addr) u128 {
	if a.Is4() {
		b := a.As4()
		return u128{lo: uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return u128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// prefixRange is the closed range a masked prefix covers.
func prefixRange(p netip.Prefix, idx int32) ipRange {
	first := toU128(p.Addr())
	host := p.Addr().BitLen() - p.Bits() // number of host bits, 0..128
	last := first
	switch {
	case host >= 128:
		last = u128{^uint64(0), ^uint64(0)}
	case host >= 64:
		last.hi |= 1<<(host-64) - 1
		last.lo = ^uint64(0)
	default:
		last.lo |= 1<<host - 1
	}
	return ipRange{first, last, idx}
}

// buildPrefixIndex splits the prefixes of rules into disjoint ranges.
// When two rules hold the same prefix, the earlier one owns it, so a
// merged list reports the entry from the earliest source.
func buildPrefixIndex(ps []netip.Prefix, idxs []int32) prefixIndex {
	var v4, v6 []ipRange
	for i, p := range ps {
		if p.Addr().Is4() {
			v4 = append(v4, prefixRange(p, idxs[i]))
		} else {
			v6 = append(v6, prefixRange(p, idxs[i]))
		}
	}
	return prefixIndex{v4: flatten(v4), v6: flatten(v6)}
}

// flatten turns nested-or-disjoint ranges into disjoint ones owned by the
// innermost range, in address order.
func flatten(rs []ipRange) []ipRange {
	// Outer ranges before the ranges they contain; among equal ranges,
	// the earlier rule first.
	slices.SortFunc(rs, func(a, b ipRange) int {
		if c := a.first.cmp(b.first); c != 0 {
			return c
		}
		if c := b.last.cmp(a.last); c != 0 {
			return c
		}
		return cmp.Compare(a.idx, b.idx)
	})
	var out []ipRange
	emit := func(first, last u128, idx int32) {
		if first.cmp(last) > 0 {
			return
		}
		// Merge with the previous piece of the same rule, e.g. the two
		// halves of a /16 around a nested /24 owned by the /16 itself.
		if n := len(out); n > 0 && out[n-1].idx == idx && out[n-1].last.inc() == first {
			out[n-1].last = last
			return
		}
		out = append(out, ipRange{first, last, idx})
	}
	var stack []ipRange // the chain of ranges containing the cursor
	var cursor u128     // first address not yet emitted
	exhausted := false  // the cursor passed the top of the address space
	pop := func() {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if !exhausted && cursor.cmp(top.last) <= 0 {
			emit(cursor, top.last, top.idx)
		}
		if top.last == (u128{^uint64(0), ^uint64(0)}) {
			exhausted = true
		} else if top.last.inc().cmp(cursor) > 0 {
			cursor = top.last.inc()
		}
	}
	for _, r := range rs {
		for len(stack) > 0 && stack[len(stack)-1].last.cmp(r.first) < 0 {
			pop()
		}
		if len(stack) > 0 {
			top := stack[len(stack)-1]
			if top.first == r.first && top.last == r.last {
				continue // duplicate prefix: the earlier rule keeps it
			}
			if cursor.cmp(r.first) < 0 {
				emit(cursor, r.first.dec(), top.idx)
			}
		}
		cursor = r.first
		stack = append(stack, r)
	}
	for len(stack) > 0 {
		pop()
	}
	return slices.Clip(out)
}

// lookup returns the rule owning ip. ip must be unmapped and zone-free
// (see normAddr).
func (x *prefixIndex) lookup(ip netip.Addr) (int32, bool) {
	rs := x.v6
	if ip.Is4() {
		rs = x.v4
	}
	v := toU128(ip)
	// The first range ending at or after v is the only candidate.
	i, _ := slices.BinarySearchFunc(rs, v, func(r ipRange, v u128) int {
		return r.last.cmp(v)
	})
	if i < len(rs) && rs[i].first.cmp(v) <= 0 {
		return rs[i].idx, true
	}
	return 0, false
}

// normAddr makes ip comparable with the stored prefixes: IPv4-mapped IPv6
// (::ffff:192.0.2.1, as dual-stack sockets report IPv4 peers) becomes
// plain IPv4, and a zone is irrelevant for list membership.
func normAddr(ip netip.Addr) netip.Addr {
	return ip.Unmap().WithZone("")
}

// normPrefix does the same for a prefix from a list file: masks host bits
// (postgrey does too) and turns ::ffff:0:0/96-and-longer into IPv4.
func normPrefix(p netip.Prefix) netip.Prefix {
	a := p.Addr()
	if a.Is4In6() && p.Bits() >= 96 {
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96).Masked()
	}
	return p.Masked()
}
