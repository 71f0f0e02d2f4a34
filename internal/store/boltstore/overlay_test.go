package boltstore

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// TestCommittedKeepsKeysVisible: committed copies a batch into logged in
// chunks, releasing the lock in between; a reader must find every key of
// the batch, with its record, at every moment of the copy.
func TestCommittedKeepsKeysVisible(t *testing.T) {
	o := newOverlay(1<<20, 1<<20)
	o.logged["old"] = []byte("old") // a non-empty logged: the copying path
	const n = 20 * committedChunk
	key := func(i int) string { return fmt.Sprintf("k%05d", i) }
	for i := range n {
		if _, err := o.set(key(i), []byte(key(i))); err != nil {
			t.Fatal(err)
		}
	}
	if len(o.take()) != n {
		t.Fatal("take did not return the batch")
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	var missing atomic.Int64
	for r := range 4 {
		wg.Go(func() {
			for i := r; !stop.Load(); i = (i + 7) % n {
				rec, found, err := o.get(key(i))
				if err != nil || !found || string(rec) != key(i) {
					missing.Add(1)
				}
			}
		})
	}
	o.committed()
	stop.Store(true)
	wg.Wait()
	if m := missing.Load(); m != 0 {
		t.Fatalf("%d lookups missed a committed key during the copy", m)
	}
	if o.flushing != nil || len(o.logged) != n+1 {
		t.Fatalf("after committed: flushing %v, logged %d entries, want nil and %d", o.flushing != nil, len(o.logged), n+1)
	}
}
