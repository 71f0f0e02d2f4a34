package dnsbl

import (
	"hash/maphash"
	"net/netip"
	"sync/atomic"
	"time"
)

// scoreSlots is the number of clients whose score is remembered: 512 KiB of
// slots per Checker with lists, plus the results held. A client whose slot
// another client took is only asked again through the resolver's cache,
// which is correct, just slower.
const scoreSlots = 1 << 16

// scoreCache remembers each client's Result until the first of the answers
// it was built from expires, the way postscreen(8) keeps a DNSBL verdict per
// client (postscreen_dnsbl_ttl) instead of asking again on every
// connection. Most requests come from clients seen moments before (one per
// recipient, retries, the next message): for them a score is one hash and
// two loads, not a cache lookup per list, a goroutine per list on a miss,
// and a result built again.
//
// It is a lock-free direct-mapped table of immutable entries: a reader
// either sees a whole entry or the one before it.
type scoreCache struct {
	seed  maphash.Seed
	slots []atomic.Pointer[scored]
}

type scored struct {
	ip      netip.Addr
	expires int64 // Unix nanoseconds
	res     Result
}

func newScoreCache() *scoreCache {
	return &scoreCache{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[scored], scoreSlots)}
}

func (c *scoreCache) slot(ip netip.Addr) *atomic.Pointer[scored] {
	return &c.slots[maphash.Comparable(c.seed, ip)%uint64(len(c.slots))]
}

// get returns ip's remembered Result if it is still valid at now.
func (c *scoreCache) get(ip netip.Addr, now time.Time) (Result, bool) {
	e := c.slot(ip).Load()
	if e == nil || e.ip != ip || now.UnixNano() >= e.expires {
		return Result{}, false
	}
	return e.res, true
}

// set remembers res for ip until expires.
func (c *scoreCache) set(ip netip.Addr, res Result, expires time.Time) {
	c.slot(ip).Store(&scored{ip: ip, expires: expires.UnixNano(), res: res})
}
