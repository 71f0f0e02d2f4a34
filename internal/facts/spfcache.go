package facts

import (
	"hash/maphash"
	"net/netip"
	"sync/atomic"
	"time"
)

// The SPF result cache. An SPF result is a function of the client address,
// the HELO name, the sender (its domain, and its local part through
// macros, RFC 7208 section 7) and the DNS data the evaluation read. So a
// result keyed by exactly (address, HELO, sender) can be reused for as
// long as every DNS answer it was computed from could be: the shortest TTL
// among them (resolver.SPFTrace). That is exact, unlike a key per client
// network, and it is what makes SPF "once per transaction" without keeping
// anything in the transaction state: the transaction's later requests
// (more recipients, DATA) carry the same three values. It also serves a
// client that sends the same sender's next message, or retries, within
// the TTL. The table is direct-mapped (spfCache): a result whose slot was
// taken by another key in between is evaluated again, the same result
// counted once more in tempfail_spf_results_total.
//
// A result that involved a temporary failure is never cached (it is
// temperror, or could differ a moment later). Answers that cannot be
// cached (TTL under a second, or the resolver's cache turned off) fall
// back to the transaction state.

const (
	// spfSlots is the size of the direct-mapped table: 384 KiB of tags and
	// pointers, plus the entries in use.
	spfSlots     = 1 << 15
	spfMaxAge    = 10 * time.Minute
	spfMinCached = time.Second
)

type spfKey struct {
	ip           netip.Addr
	helo, sender string
}

type spfCached struct {
	key   spfKey
	res   SPF
	until int64 // Unix nanoseconds
}

// spfCache is a lock-free direct-mapped table: each key has one slot (by
// its hash), holding the last result stored there. A lookup is one hash,
// one atomic load and a comparison; a store replaces whatever the slot
// held. A result pushed out by another key that hashed to its slot is
// evaluated again when next asked: correct, only slower. (A map behind
// locks cost more than the fast-path evaluation it saves: under load
// every lookup of a large map misses the processor's caches.)
type spfCache struct {
	// tags hold 32 bits of each slot's key hash, so that a miss (the
	// common case under a load of new senders) reads 128 KiB of tags and
	// not the entry behind the slot.
	tags  [spfSlots]atomic.Uint32
	slots [spfSlots]atomic.Pointer[spfCached]
}

var spfSeed = maphash.MakeSeed()

func spfSlot(k spfKey) (int, uint32) {
	h := maphash.Comparable(spfSeed, k)
	return int(h % spfSlots), uint32(h>>32) | 1
}

func (c *spfCache) get(k spfKey, now time.Time) (SPF, bool) {
	i, tag := spfSlot(k)
	if c.tags[i].Load() != tag {
		return SPF{}, false
	}
	e := c.slots[i].Load()
	if e == nil || e.key != k || now.UnixNano() >= e.until {
		return SPF{}, false
	}
	return e.res, true
}

func (c *spfCache) put(k spfKey, res SPF, until time.Time) {
	i, tag := spfSlot(k)
	// Entry first, then tag: a reader that sees the new tag with the old
	// entry compares the key and misses; no torn result is possible.
	c.slots[i].Store(&spfCached{key: k, res: res, until: until.UnixNano()})
	c.tags[i].Store(tag)
}
