package boltstore

import (
	"hash/maphash"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// A Bloom filter of the keys that may be on disk. Greylisting looks up a
// never-seen triplet on almost every request; without the filter each of
// those is a bbolt read transaction and a B+tree descent for nothing. The
// filter answers "certainly not on disk" in a few hundred nanoseconds.
//
// Deleted and expired keys leave their bits set (false positives only);
// the filter is rebuilt from the file in the background once as many keys
// were added as it was sized for. Until the first build finishes (a scan of
// the file right after Open, which does not delay serving) every key is
// "maybe".

const (
	filterBitsPerKey = 10 // ~1% false positives with 7 hashes
	filterHashes     = 7
)

// filterMinKeys is the smallest capacity (1.25 MiB of bits); a variable so
// tests can force rebuilds.
var filterMinKeys = 1 << 20

type filter struct {
	bits   []atomic.Uint64
	m      uint64
	s1, s2 maphash.Seed
}

func newFilter(keys int) *filter {
	words := (keys*filterBitsPerKey + 63) / 64
	return &filter{bits: make([]atomic.Uint64, words), m: uint64(words) * 64,
		s1: maphash.MakeSeed(), s2: maphash.MakeSeed()}
}

func (f *filter) add(key string) {
	h1, h2 := maphash.String(f.s1, key), maphash.String(f.s2, key)|1
	for i := uint64(0); i < filterHashes; i++ {
		b := (h1 + i*h2) % f.m
		f.bits[b/64].Or(1 << (b % 64))
	}
}

func (f *filter) mayContain(key string) bool {
	h1, h2 := maphash.String(f.s1, key), maphash.String(f.s2, key)|1
	for i := uint64(0); i < filterHashes; i++ {
		b := (h1 + i*h2) % f.m
		if f.bits[b/64].Load()&(1<<(b%64)) == 0 {
			return false
		}
	}
	return true
}

// diskFilter is the live filter plus the one being built.
type diskFilter struct {
	cur      atomic.Pointer[filter] // nil until the first build is done
	building atomic.Pointer[filter]
	added    atomic.Int64 // keys added to cur since it was built
	capacity atomic.Int64
	rebuild  atomic.Bool // a build is running
}

// maybeOnDisk reports whether key may be in the file.
func (d *diskFilter) maybeOnDisk(key string) bool {
	f := d.cur.Load()
	return f == nil || f.mayContain(key)
}

// added records a key about to reach the disk; it reports whether the
// filter is full enough to be rebuilt.
func (d *diskFilter) addKey(key string) (full bool) {
	if f := d.building.Load(); f != nil {
		f.add(key)
	}
	if f := d.cur.Load(); f != nil {
		f.add(key)
		return d.added.Add(1) > d.capacity.Load()
	}
	return false
}

// buildFilter scans kv into a new filter and makes it current. Keys
// written meanwhile reach the new filter through addKey (building is set
// first), the overlay's keys (dirty, logged or being merged alike) are
// added before the scan, and the scan sees every key merged before it
// starts: together, every key that can be in kv when the filter takes
// over.
func (s *Store) buildFilter() {
	d := &s.filter
	if !d.rebuild.CompareAndSwap(false, true) {
		return
	}
	defer d.rebuild.Store(false)
	logged, _ := s.ov.loggedLen()
	capacity := max(filterMinKeys, 2*(int(s.keys.Load())+logged))
	nf := newFilter(capacity)
	d.building.Store(nf)
	defer d.building.Store(nil)
	s.ov.each(nf.add)
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(kvBucket).ForEach(func(k, _ []byte) error {
			nf.add(string(k))
			n++
			return nil
		})
	})
	if err != nil {
		s.log.Warn("key filter build failed; every lookup goes to disk until the next try", "error", err)
		return
	}
	d.capacity.Store(int64(capacity - n))
	d.added.Store(0)
	d.cur.Store(nf)
}
