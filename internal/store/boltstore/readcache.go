package boltstore

import "sync"

// cachePerStripe bounds the read cache: 256 stripes x 512 records, about
// 131k records (~15 MB with greylist-sized keys) at most.
const cachePerStripe = 512

// stripe is one of the per-key locks, plus the read cache of the keys it
// covers. The cache holds what bbolt returned, absent keys included (a
// greylisting request looks a new key up several times: get, then the
// compare-and-swap that creates it); it is consulted only after the
// overlay, so it only ever answers for keys with no pending write.
type stripe struct {
	sync.Mutex
	cache map[string][]byte // key -> record; nil record: absent on disk
}

// cached returns the cached record for key; the caller holds the lock.
func (st *stripe) cached(key string) (rec []byte, ok bool) {
	rec, ok = st.cache[key]
	return rec, ok
}

// remember caches a record read from bbolt; the caller holds the lock.
func (st *stripe) remember(key string, rec []byte) {
	if st.cache == nil || len(st.cache) >= cachePerStripe {
		// Dropping the whole stripe's cache is crude but O(1) amortised,
		// and a miss only costs one bbolt read.
		st.cache = make(map[string][]byte, cachePerStripe/4)
	}
	st.cache[key] = rec
}

// forget drops key after a write; the caller holds the lock.
func (st *stripe) forget(key string) { delete(st.cache, key) }
