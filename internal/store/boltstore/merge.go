package boltstore

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Merge transaction sizing. A merge writes its snapshot into kv in sorted
// key order, split into transactions over consecutive key ranges: the
// ranges are disjoint, so each leaf page of kv is still rewritten about
// once per merge however it is split, and between two of them the flusher
// commits the log, so writers never wait for a whole merge (bbolt has one
// write transaction at a time). The size adapts so that one transaction
// takes about mergeTxnTarget: short enough that a log commit waiting
// behind one adds little to the crash window (FlushInterval is 100 ms by
// default); long enough that the two fsyncs of each transaction stay a
// small part of it.
const (
	mergeTxnTarget = 40 * time.Millisecond
	mergeChunkMin  = 256
	mergeChunkMax  = 1 << 16
	// The first transaction of a merge is small: writers held by the
	// logged cap wait for it (at Open after a full log, for instance), and
	// the sizing doubles from there within a few transactions.
	mergeChunkStart = 1024
)

// mergeState is the merge in progress; owned by the flusher goroutine.
type mergeState struct {
	snap    map[string][]byte // frozen; the overlay's merging map
	lastSeq uint64            // the snapshot holds every log record up to this one
	// sorted is closed once entries holds snap's entries in key order.
	// Sorting a hundred thousand keys takes tens of milliseconds, so it
	// runs off the flusher goroutine, which goes on committing the log
	// meanwhile.
	sorted  chan struct{}
	entries []mergeEntry
	pos     int // entries[:pos] are in kv
}

// mergeEntry is one key of the snapshot and its record (nil: deleted).
// Carrying the record with the key spares the merge a lookup in the
// snapshot map per key: a cache miss each in a map of 100 000 keys.
type mergeEntry struct {
	key string
	rec []byte
}

// replay loads the log records, oldest first, into the overlay's logged
// map: the writes committed but not merged into kv before the last Close or
// crash. Writers wait for merges rather than let more than logCapFactor x
// MergeThreshold entries (plus one batch) go unmerged, which bounds this to
// a fraction of a second.
//
// The log also holds the entries an unfinished merge has written already:
// its records are deleted only when all of the snapshot is in kv. Those
// entries are skipped, since kv has exactly their newest state as of the
// snapshot, so that a crash in the middle of merging a full log does not
// make the next Open replay up to twice as much.
func (s *Store) replay() error {
	return s.db.View(func(tx *bolt.Tx) error {
		var skip func(seq uint64) func(key []byte) bool
		if p := tx.Bucket(metaBucket).Get(mergedKey); p != nil {
			if len(p) < 8 {
				return fmt.Errorf("meta: bad merge progress %x", p)
			}
			upTo, lastKey := decodeUint(p[:8]), bytes.Clone(p[8:])
			past := func(key []byte) bool { return bytes.Compare(key, lastKey) <= 0 }
			skip = func(seq uint64) func(key []byte) bool {
				if seq > upTo {
					return nil
				}
				return past
			}
		}
		c := tx.Bucket(logBucket).Cursor()
		// Sized up front: growing a map of a few hundred thousand keys
		// step by step costs more than decoding them.
		n := 0
		for k, v := c.First(); k != nil; k, v = c.Next() {
			n += batchLen(v)
		}
		s.ov.logged = make(map[string][]byte, n)
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 8 {
				return fmt.Errorf("log: bad key %x", k)
			}
			seq := decodeUint(k)
			var skipKey func(key []byte) bool
			if skip != nil {
				skipKey = skip(seq)
			}
			err := decodeBatch(v, skipKey, func(key string, rec []byte) { s.ov.logged[key] = rec })
			if err != nil {
				return fmt.Errorf("log record %d: %w", seq, err)
			}
			s.lastSeq = seq
		}
		return nil
	})
}

// mergeChan returns a ready channel when the flusher has merge work it can
// do now, the channel that becomes ready when the snapshot is sorted, or
// nil.
func (s *Store) mergeChan() <-chan struct{} {
	if s.opts.holdMerge != nil && s.opts.holdMerge() {
		return nil
	}
	if m := s.merge; m != nil {
		select {
		case <-m.sorted:
		default:
			return m.sorted
		}
	}
	if time.Now().Before(s.mergeRetry) {
		return nil // a merge transaction failed; retry after a tick
	}
	if s.merge != nil {
		return readyChan
	}
	_, n := s.ov.loggedLen()
	switch {
	case n == 0:
		s.forceMerge.Store(false) // nothing left to merge: request served
		return nil
	case n >= s.opts.MergeThreshold, time.Since(s.lastMerge) >= s.opts.MergeInterval, s.forceMerge.Load():
		return readyChan
	}
	return nil
}

// readyChan is always ready, for select cases that should fire at once.
var readyChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// mergeStep starts a merge, or commits its next transaction.
func (s *Store) mergeStep() {
	m := s.merge
	if m == nil {
		snap := s.ov.startMerge()
		if snap == nil {
			return
		}
		s.forceMerge.Store(false)
		s.chunk = min(mergeChunkStart, s.opts.mergeChunk)
		m = &mergeState{snap: snap, lastSeq: s.lastSeq, sorted: make(chan struct{})}
		s.merge = m
		go func() {
			entries := make([]mergeEntry, 0, len(snap))
			for k, rec := range snap {
				entries = append(entries, mergeEntry{k, rec})
			}
			slices.SortFunc(entries, func(a, b mergeEntry) int { return strings.Compare(a.key, b.key) })
			m.entries = entries
			close(m.sorted) // publishes keys to the flusher
		}()
		return
	}
	n := min(s.chunk, len(m.entries)-m.pos)
	last := m.pos+n == len(m.entries)
	start := time.Now()
	delta, err := s.mergeCommit(m, m.entries[m.pos:m.pos+n], last)
	d := time.Since(start)
	if err != nil {
		s.mergeErrors.Add(1)
		s.ov.mergeFailed()
		s.mergeRetry = time.Now().Add(s.opts.FlushInterval)
		s.logMerge(n, d, err)
	} else {
		s.keys.Add(delta)
		s.mergedKeys.Add(uint64(n))
		m.pos += n
		if n == s.chunk {
			// Aim the next transaction at mergeTxnTarget, changing the
			// size at most twofold per step: one slow fsync must not
			// shrink merges to nothing.
			next := int(float64(n) * float64(mergeTxnTarget) / float64(max(d, time.Microsecond)))
			s.chunk = min(max(next, n/2, mergeChunkMin), 2*n, s.opts.mergeChunk)
		}
		if last {
			s.merge = nil
			s.merges.Add(1)
			s.lastMerge = time.Now()
		}
		s.ov.merged(n, last)
		s.logMerge(n, d, nil)
	}
	if s.opts.OnMerge != nil {
		s.opts.OnMerge(n, last, d, err)
	}
}

// mergeCommit writes entries (sorted, from the snapshot) into kv in
// one transaction and returns the change in the key count. The transaction
// that ends the merge also deletes the log records the snapshot covers, so
// a crash at any point leaves them in the log: replaying and merging them
// again is harmless, since each entry is the key's newest state as of
// lastSeq and every later record is replayed after it.
func (s *Store) mergeCommit(m *mergeState, entries []mergeEntry, last bool) (delta int64, err error) {
	now := s.now().UnixNano()
	fill := mergeFill(len(m.snap), s.keys.Load())
	err = s.db.Update(func(tx *bolt.Tx) error {
		delta = 0
		b := tx.Bucket(kvBucket)
		b.FillPercent = fill
		for _, e := range entries {
			k, rec := e.key, e.rec
			kb := []byte(k) // bbolt keeps it until the commit
			existed := b.Get(kb) != nil
			if rec == nil || recordExp(rec) <= now {
				// An expired entry is dropped like a tombstone: kv may hold
				// an older value, which must not come back to life.
				if existed {
					if err := b.Delete(kb); err != nil {
						return fmt.Errorf("delete %q: %w", k, err)
					}
					delta--
				}
				continue
			}
			if err := b.Put(kb, rec); err != nil {
				return fmt.Errorf("put %q: %w", k, err)
			}
			if !existed {
				delta++
			}
		}
		// Progress is recorded with the writes, for replay to skip what
		// kv has already.
		meta := tx.Bucket(metaBucket)
		if last {
			if err := deleteLog(tx, m.lastSeq); err != nil {
				return err
			}
			if err := meta.Delete(mergedKey); err != nil {
				return err
			}
		} else if err := meta.Put(mergedKey, append(encodeUint(m.lastSeq), entries[len(entries)-1].key...)); err != nil {
			return err
		}
		if s.opts.failMerge != nil {
			if err := s.opts.failMerge(); err != nil {
				return err
			}
		}
		return putKeyCount(tx, s.keys.Load()+delta)
	})
	if err != nil {
		return 0, fmt.Errorf("boltstore: merge %d entries into %s: %w", len(entries), s.opts.Path, err)
	}
	return delta, nil
}

// mergeFill is the FillPercent of a merge of n entries into a B+tree of
// keys keys. bbolt splits a page that overflows into pages filled to
// FillPercent, the rest going to the next page. Its default, 0.5, suits a
// few keys landing on a full page (two pages about half full each) but
// leaves every page half empty when a merge writes runs of keys into a
// small or empty tree: a fresh store, or a rate limiter whose keys all
// expired. A merge that grows the tree by a factor g grows a full page to
// about g pages' worth, so splitting at g/2 (between 0.5 and 1) gives two
// even halves for small merges and packed pages for big ones. Measured
// with 200 000 rate-limit keys (docs/performance.md): leaf pages 91% used
// instead of 50% when merged into a fresh file, and 63% instead of 57%
// after twenty rounds of 10% of the keys expiring and 10% new.
func mergeFill(n int, keys int64) float64 {
	g := 1 + float64(n)/float64(max(keys, 1))
	return min(max(g/2, bolt.DefaultFillPercent), 1)
}

// deleteLog deletes the log records up to lastSeq.
func deleteLog(tx *bolt.Tx, lastSeq uint64) error {
	b := tx.Bucket(logBucket)
	// Collected first: deleting under a cursor can make it skip records.
	var dead [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && decodeUint(k) <= lastSeq; k, _ = c.Next() {
		dead = append(dead, append([]byte(nil), k...))
	}
	for _, k := range dead {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("delete log record %d: %w", decodeUint(k), err)
		}
	}
	return nil
}

func (s *Store) logMerge(n int, d time.Duration, err error) {
	if err == nil {
		if s.mergeFailures > 0 {
			s.log.Info("merge recovered", "failed_merges", s.mergeFailures, "keys", n, "duration", d)
		}
		s.mergeFailures = 0
		return
	}
	s.mergeFailures++
	if s.mergeFailures == 1 || time.Since(s.lastMergeErrLog) >= errorLogEvery {
		s.lastMergeErrLog = time.Now()
		logged, _ := s.ov.loggedLen()
		s.log.Error("merge failed; entries stay in the log and in memory, and are retried",
			"err", err, "failed_merges", s.mergeFailures, "logged", logged, "duration", d)
	}
}

// requestMerge makes the flusher merge whatever is logged without waiting
// for MergeThreshold or MergeInterval, until nothing is logged. Tests use it
// to get entries into kv.
func (s *Store) requestMerge() {
	s.forceMerge.Store(true)
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
