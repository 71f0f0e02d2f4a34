package resolver

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"
)

// key identifies a cached answer: the lower-cased name without the trailing
// dot, and the query type.
type key struct {
	name  string
	qtype uint16
}

// cache spreads answers over shards by name, each a fixed-capacity map with
// CLOCK eviction and its own lock: every request reads several answers, and
// one lock, even a read lock, is a cache line all cores write.
//
// In front of the shards sits a direct-mapped table of the answers last
// found (front): a hit there is one hash, one atomic load and a key
// comparison, without the shard's lock (whose reader count is a cache line
// every core writes) or a map probe. An answer stays in front only until
// it expires or another name takes its slot; one evicted from its shard
// may still be served from front until then, so the cache can hold up to
// len(front) answers beyond its size.
type cache struct {
	seed   maphash.Seed
	shards []cacheShard
	front  []atomic.Pointer[answer]
}

// cacheShards is the number of shards of a cache big enough to split.
const cacheShards = 16

func newCache(size int) *cache {
	n := cacheShards
	if size < 64*cacheShards {
		n = 1 // small caches (tests) keep exact capacity and eviction order
	}
	c := &cache{seed: maphash.MakeSeed(), shards: make([]cacheShard, n)}
	for i := range c.shards {
		c.shards[i] = cacheShard{idx: make(map[key]int), size: (size + n - 1) / n}
	}
	if n > 1 {
		// A quarter of the size, a power of two: 256 KiB for the default.
		f := 1024
		for f < size/4 && f < 1<<16 {
			f *= 2
		}
		c.front = make([]atomic.Pointer[answer], f)
	}
	return c
}

func (c *cache) hash(k key) uint64 {
	return maphash.String(c.seed, k.name) ^ uint64(k.qtype)*0x9e3779b97f4a7c15
}

func (c *cache) get(k key, now time.Time) *answer {
	if len(c.shards) == 1 {
		return c.shards[0].get(k, now)
	}
	h := c.hash(k)
	f := &c.front[h&uint64(len(c.front)-1)]
	if a := f.Load(); a != nil && a.k == k && now.Before(a.expires) {
		return a
	}
	a := c.shards[(h>>32)%uint64(len(c.shards))].get(k, now)
	if a != nil {
		f.Store(a)
	}
	return a
}

func (c *cache) put(k key, a *answer, now time.Time) bool {
	a.k = k
	if len(c.shards) == 1 {
		return c.shards[0].put(k, a, now)
	}
	return c.shards[(c.hash(k)>>32)%uint64(len(c.shards))].put(k, a, now)
}

func (c *cache) len() int {
	n := 0
	for i := range c.shards {
		n += c.shards[i].len()
	}
	return n
}

// cacheShard is a fixed-capacity map of answers with CLOCK eviction.
//
// CLOCK (second chance) approximates LRU: each slot has a reference bit set
// on every hit; when a new answer needs room the hand sweeps the slots,
// clearing set bits and evicting the first slot found unreferenced or
// expired. Hits only take the read lock and set the bit atomically, so
// concurrent readers do not serialise on a list update the way LRU would.
type cacheShard struct {
	mu    sync.RWMutex
	idx   map[key]int
	slots []slot
	size  int
	hand  int
}

type slot struct {
	k   key
	a   *answer
	ref uint32 // accessed atomically; 1 = referenced since the hand passed
}

// get returns the unexpired answer for k, or nil.
func (c *cacheShard) get(k key, now time.Time) *answer {
	c.mu.RLock()
	i, ok := c.idx[k]
	if !ok {
		c.mu.RUnlock()
		return nil
	}
	s := &c.slots[i]
	a := s.a
	if !now.Before(a.expires) {
		c.mu.RUnlock()
		return nil
	}
	if atomic.LoadUint32(&s.ref) == 0 {
		atomic.StoreUint32(&s.ref, 1)
	}
	c.mu.RUnlock()
	return a
}

// put stores a under k and reports whether another entry was evicted to
// make room.
func (c *cacheShard) put(k key, a *answer, now time.Time) (evicted bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.idx[k]; ok {
		c.slots[i].a = a
		return false
	}
	if len(c.slots) < c.size {
		c.slots = append(c.slots, slot{k: k, a: a})
		c.idx[k] = len(c.slots) - 1
		return false
	}
	// At most two sweeps: the first clears every reference bit.
	for {
		s := &c.slots[c.hand]
		if atomic.LoadUint32(&s.ref) == 0 || !now.Before(s.a.expires) {
			delete(c.idx, s.k)
			s.k, s.a = k, a
			atomic.StoreUint32(&s.ref, 0)
			c.idx[k] = c.hand
			c.hand = (c.hand + 1) % c.size
			return true
		}
		atomic.StoreUint32(&s.ref, 0)
		c.hand = (c.hand + 1) % c.size
	}
}

// len returns the number of entries held, expired or not.
func (c *cacheShard) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.idx)
}

// capacity is the number of answers the cache can hold.
func (c *cache) capacity() int {
	n := 0
	for i := range c.shards {
		n += c.shards[i].size
	}
	return n
}
