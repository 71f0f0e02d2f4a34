package boltstore

import (
	"runtime"
	"sync"

	"github.com/tempfail/tempfail/internal/store"
)

// overlay holds every write that is not in bucket "kv" yet: acknowledged
// but not committed (dirty, flushing), and committed to the log but not
// merged into kv (logged, merging). A nil record is a tombstone: the key is
// deleted even if kv still has it. A key may be in several maps; the
// newest state is the first found in the order dirty, flushing, logged,
// merging.
type overlay struct {
	mu sync.Mutex
	// drained is signalled when writers waiting in set may go on.
	drained sync.Cond
	closed  bool
	// failing is set while commits fail; writers then stop waiting for
	// them, since a full disk must not stall mail.
	failing bool
	// mergeFailing is the same for merges: writers stop waiting for the
	// logged entries to shrink while merge commits fail.
	mergeFailing bool
	// limit is the number of dirty keys at which writers wait for the
	// flusher to take them (Options.MaxPending).
	limit int
	// logCap is the number of entries committed or being committed to the
	// log, and not merged, at which writers wait for merges to progress
	// (logCapFactor x Options.MergeThreshold).
	logCap int
	// dirty takes new writes.
	dirty map[string][]byte
	// flushing is the batch being committed, or the batch whose commit
	// failed, waiting to be retried. nil when no commit is outstanding.
	// Only the flusher writes it.
	flushing map[string][]byte
	// logged holds the entries of the log records committed since the
	// current merge (if any) started; never nil.
	logged map[string][]byte
	// merging is the snapshot of logged that the merge in progress writes
	// into kv; nil when no merge is running. It is never modified once
	// frozen, so the merger reads it without the lock; it is dropped as a
	// whole when the merge has committed, and writes made meanwhile live
	// on in logged, which is consulted first.
	merging map[string][]byte
	// mergedN is how many of merging's entries kv has already: they no
	// longer count towards logCap, so writers held by it go on as the
	// merge progresses, one transaction at a time, instead of waiting for
	// the whole merge (seconds, for a big one).
	mergedN int
}

func newOverlay(limit, logCap int) *overlay {
	o := &overlay{dirty: make(map[string][]byte), logged: make(map[string][]byte), limit: limit, logCap: logCap}
	o.drained.L = &o.mu
	return o
}

// get returns the newest record for key not yet in kv. found false means
// kv has the current state.
func (o *overlay) get(key string) (rec []byte, found bool, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil, false, store.ErrClosed
	}
	if rec, ok := o.dirty[key]; ok {
		return rec, true, nil
	}
	if rec, ok := o.flushing[key]; ok {
		return rec, true, nil
	}
	if rec, ok := o.logged[key]; ok {
		return rec, true, nil
	}
	if rec, ok := o.merging[key]; ok {
		return rec, true, nil
	}
	return nil, false, nil
}

// set records a write and returns the number of dirty keys.
//
// Once limit keys are dirty, set waits until the flusher takes them rather
// than let the batch grow without bound: a bigger batch means a longer
// commit, and so a longer window of writes a crash can lose. When the disk
// keeps up, the wait is one goroutine switch per limit writes. Likewise,
// once logCap entries wait to be merged, set waits for a merge to end, so
// that memory (and the log replayed at Open) stays bounded when merges fall
// behind.
func (o *overlay) set(key string, rec []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for !o.closed && o.mustWait() {
		if _, ok := o.dirty[key]; ok {
			break // an overwrite does not grow the batch
		}
		o.drained.Wait()
	}
	if o.closed {
		return 0, store.ErrClosed
	}
	o.dirty[key] = rec
	return len(o.dirty), nil
}

// mustWait reports whether a new dirty key must wait; the caller holds mu.
// The batch being committed counts towards logCap: it is logged a moment
// later, and leaving it out would let the log exceed the cap by two
// batches instead of at most the one dirty batch.
func (o *overlay) mustWait() bool {
	if o.failing {
		return false
	}
	return len(o.dirty) >= o.limit || !o.mergeFailing && o.capped() >= o.logCap
}

// unmerged returns the number of logged entries kv does not have yet (an
// upper bound: a key may be in both maps); the caller holds mu.
func (o *overlay) unmerged() int {
	return len(o.logged) + len(o.merging) - o.mergedN
}

// capped returns the number of entries that count towards logCap; the
// caller holds mu.
func (o *overlay) capped() int {
	return len(o.flushing) + o.unmerged()
}

// take moves the dirty writes into the flushing batch and returns it, or nil
// if there is nothing to commit. After a failed commit the old batch is
// still there, and newer dirty writes override it.
func (o *overlay) take() map[string][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.dirty) == 0 {
		return o.flushing
	}
	if o.flushing == nil {
		o.flushing = o.dirty
	} else {
		for k, rec := range o.dirty {
			o.flushing[k] = rec
		}
	}
	o.dirty = make(map[string][]byte, len(o.flushing))
	o.drained.Broadcast()
	return o.flushing
}

// committedChunk is how many entries committed copies into logged per
// hold of the lock.
const committedChunk = 256

// committed moves the flushing batch, now in the log, into logged. A reader
// finds every key in one map or the other at every moment: the batch stays
// in flushing, which is consulted first and holds the same records, until
// logged has all of it.
//
// The copy is made in chunks, letting readers and writers in between, so
// one hold of the lock does a bounded amount of work: copying a whole batch
// (MaxPending entries) into a large logged map under one hold stalled every
// request whenever the copy lost its CPU or ran into a GC assist (under
// compare.sh's load, 24 holds over 1 ms in 10 s, up to 5.7 ms; in chunks,
// 16-17, up to 4.6 ms: the rest is the holder being descheduled, which no
// chunk size avoids; the p99 did not move measurably). Only the flusher
// goroutine writes flushing and logged, so ranging over the batch between
// holds is safe.
func (o *overlay) committed() {
	o.mu.Lock()
	batch := o.flushing
	if len(o.logged) == 0 {
		if batch != nil {
			o.logged = batch
		}
	} else {
		n := 0
		for k, rec := range batch {
			o.logged[k] = rec
			if n++; n%committedChunk == 0 {
				o.mu.Unlock()
				runtime.Gosched() // let the requests that waited run
				o.mu.Lock()
			}
		}
	}
	o.flushing = nil
	o.failing = false
	o.drained.Broadcast()
	o.mu.Unlock()
}

// failed keeps the flushing batch for the next try and releases waiting
// writers: while the disk fails, memory is the only place writes can go.
func (o *overlay) failed() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failing = true
	o.drained.Broadcast()
}

// startMerge freezes logged as the merge snapshot and starts a new logged
// map for the log records committed from now on. It returns nil if a merge
// is already running or there is nothing to merge.
func (o *overlay) startMerge() map[string][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.merging != nil || len(o.logged) == 0 {
		return nil
	}
	o.merging = o.logged
	o.logged = make(map[string][]byte)
	return o.merging
}

// merged records that n more entries of the snapshot are in kv, and drops
// the snapshot once kv has all of it (done). Entries written since the
// snapshot was taken are in logged and stay.
func (o *overlay) merged(n int, done bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mergedN += n
	if done {
		o.merging = nil
		o.mergedN = 0
	}
	o.mergeFailing = false
	o.drained.Broadcast()
}

// mergeFailed releases writers waiting for the logged entries to shrink:
// while merges fail, they only could by growing without bound.
func (o *overlay) mergeFailed() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mergeFailing = true
	o.drained.Broadcast()
}

// pending returns the number of keys not yet committed (an upper bound: a
// key may be in both maps).
func (o *overlay) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.dirty) + len(o.flushing)
}

// loggedLen returns the number of entries committed to the log and not yet
// merged into kv (an upper bound: a key may be in both maps), and those of
// logged alone, which decide when the next merge starts.
func (o *overlay) loggedLen() (total, unfrozen int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.unmerged(), len(o.logged)
}

// close refuses further reads and writes and reports whether this call
// closed it. Every write that succeeded before is in dirty, flushing or
// the log.
func (o *overlay) close() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	o.closed = true
	o.drained.Broadcast()
	return true
}

// each calls f with every key held in memory (dirty, being committed,
// logged or being merged), for building the key filter. f runs without the
// lock: logged can hold hundreds of thousands of keys, and hashing them all
// under it would stall every reader and writer. Copying the key headers
// under the lock is about a hundred times cheaper, and merging, frozen, is
// read as it is.
func (o *overlay) each(f func(key string)) {
	o.mu.Lock()
	keys := make([]string, 0, len(o.dirty)+len(o.flushing)+len(o.logged))
	for _, m := range []map[string][]byte{o.dirty, o.flushing, o.logged} {
		for k := range m {
			keys = append(keys, k)
		}
	}
	merging := o.merging
	o.mu.Unlock()
	for _, k := range keys {
		f(k)
	}
	for k := range merging {
		f(k)
	}
}
