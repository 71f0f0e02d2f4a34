package dnsbl

import (
	"hash/maphash"
	"net/netip"
	"sync/atomic"
	"time"
)

// warmSlots is the number of clients whose warmth is remembered: a fixed
// 32 KiB per Checker. A client whose slot was taken by another is only
// asked in parallel again, which is correct, just slower.
const warmSlots = 4096

// warmHints remembers, per client address, until when all of its DNSxL
// answers are in the resolver's cache (see Checker.lookupAll). It is a
// lock-free direct-mapped table: each slot holds a tag from the address's
// hash (high 32 bits) and an expiry in Unix seconds (low 32 bits), so a
// lookup is one hash and one atomic load.
type warmHints struct {
	slots [warmSlots]atomic.Uint64
}

var warmSeed = maphash.MakeSeed()

func (w *warmHints) slot(ip netip.Addr) (*atomic.Uint64, uint64) {
	h := maphash.Comparable(warmSeed, ip)
	return &w.slots[h%warmSlots], h &^ (1<<32 - 1)
}

// get reports whether ip was warm at now.
func (w *warmHints) get(ip netip.Addr, now time.Time) bool {
	s, tag := w.slot(ip)
	v := s.Load()
	return v&^(1<<32-1) == tag && int64(uint32(v)) > now.Unix()
}

// set records that ip is warm until expiry.
func (w *warmHints) set(ip netip.Addr, expiry time.Time) {
	s, tag := w.slot(ip)
	s.Store(tag | uint64(uint32(expiry.Unix())))
}
