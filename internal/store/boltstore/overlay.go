package boltstore

import (
	"sync"

	"github.com/tempfail/tempfail/internal/store"
)

// overlay holds writes that are acknowledged but not yet committed. A nil
// record is a tombstone: the key is deleted even if bbolt still has it.
type overlay struct {
	mu sync.Mutex
	// drained is signalled when writers waiting in set may go on.
	drained sync.Cond
	closed  bool
	// failing is set while commits fail; writers then stop waiting for
	// them, since a full disk must not stall mail.
	failing bool
	// limit is the number of dirty keys at which writers wait for the
	// flusher to take them (Options.MaxPending).
	limit int
	// dirty takes new writes.
	dirty map[string][]byte
	// flushing is the batch being committed, or the batch whose commit
	// failed, waiting to be retried. nil when no commit is outstanding.
	// Only the flusher writes it.
	flushing map[string][]byte
}

func newOverlay(limit int) *overlay {
	o := &overlay{dirty: make(map[string][]byte), limit: limit}
	o.drained.L = &o.mu
	return o
}

// get returns the newest uncommitted record for key. found false means
// bbolt has the current state.
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
	return nil, false, nil
}

// set records a write and returns the number of dirty keys.
//
// Once limit keys are dirty, set waits until the flusher takes them rather
// than let the batch grow without bound: a bigger batch means a longer
// commit, and so a longer window of writes a crash can lose. When the disk
// keeps up, the wait is one goroutine switch per limit writes.
func (o *overlay) set(key string, rec []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for !o.closed && !o.failing && len(o.dirty) >= o.limit {
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

// committed drops the flushing batch once bbolt has it.
func (o *overlay) committed() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushing = nil
	o.failing = false
	o.drained.Broadcast()
}

// failed keeps the flushing batch for the next try and releases waiting
// writers: while the disk fails, memory is the only place writes can go.
func (o *overlay) failed() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failing = true
	o.drained.Broadcast()
}

// pending returns the number of keys not yet committed (an upper bound: a
// key may be in both maps).
func (o *overlay) pending() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.dirty) + len(o.flushing)
}

// close refuses further reads and writes and reports whether this call
// closed it. Every write that succeeded before is in dirty or flushing.
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

// each calls f with every key waiting in the overlay (dirty or being
// committed), for building the key filter.
func (o *overlay) each(f func(key string)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for k := range o.dirty {
		f(k)
	}
	for k := range o.flushing {
		f(k)
	}
}
