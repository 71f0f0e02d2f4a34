package boltstore

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/store"
)

// TestSweeper writes keys that expire at two times, moves the clock past
// the first, and checks that the sweeper removes exactly those, in batches
// no larger than SweepBatch, and that the count is right.
func TestSweeper(t *testing.T) {
	const n, batch = 3000, 100
	var clock atomic.Int64
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock.Store(t0.UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }

	var mu sync.Mutex
	var maxScanned int
	s := testOpen(t, "", func(o *Options) {
		o.Now = now
		o.SweepInterval = time.Millisecond
		o.SweepBatch = batch
		o.OnSweep = func(scanned, _ int, _ time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			maxScanned = max(maxScanned, scanned)
			if err != nil {
				t.Errorf("sweep: %v", err)
			}
		}
	})
	ctx := t.Context()
	for i := range n {
		exp := t0.Add(time.Minute)
		if i%3 == 0 {
			exp = t0.Add(time.Hour)
		}
		if err := s.Put(ctx, fmt.Sprintf("key/%05d", i), []byte("v"), exp); err != nil {
			t.Fatal(err)
		}
	}
	waitMerged(t, s) // the sweeper scans kv; expired logged entries are dropped by merges
	if got := s.Stats().Swept; got != 0 {
		t.Fatalf("swept %d live keys", got)
	}

	clock.Store(t0.Add(2 * time.Minute).UnixNano())
	want := uint64(n - n/3)
	waitFor(t, "the sweeper to remove expired keys", func() bool { return s.Stats().Swept >= want })
	st := s.Stats()
	if st.Swept != want || st.Keys != n/3 {
		t.Fatalf("Stats = %+v, want Swept %d, Keys %d", st, want, n/3)
	}
	mu.Lock()
	if maxScanned > batch {
		t.Errorf("one sweep scanned %d keys, batch is %d", maxScanned, batch)
	}
	mu.Unlock()
	for i := range n {
		_, _, err := s.Get(ctx, fmt.Sprintf("key/%05d", i))
		if live := i%3 == 0; live != (err == nil) || !live && !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("key %d: err = %v, live %v", i, err, live)
		}
	}
}

// TestSweepSparesRewrittenKey checks that a key the scan found expired but
// which was written again before the deletion commits survives, whether the
// rewrite is still in the log (the sweep removes the old kv record, the
// merge brings the new one) or merged already (the sweep spares it).
func TestSweepSparesRewrittenKey(t *testing.T) {
	var clock atomic.Int64
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock.Store(t0.UnixNano())
	s := testOpen(t, "", func(o *Options) {
		o.Now = func() time.Time { return time.Unix(0, clock.Load()) }
		o.SweepInterval = time.Millisecond
		o.SweepBatch = 10
	})
	ctx := t.Context()
	for i := range 50 {
		if err := s.Put(ctx, fmt.Sprint("k", i), []byte("old"), t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	waitMerged(t, s)
	clock.Store(t0.Add(2 * time.Minute).UnixNano())
	// Rewrite while the sweeper runs; the new values must all survive.
	for i := range 50 {
		if err := s.Put(ctx, fmt.Sprint("k", i), []byte("new"), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	waitMerged(t, s)
	for range 3 { // let the sweeper pass over everything a few more times
		scanned := s.Stats().Scanned
		waitFor(t, "a full sweep pass", func() bool { return s.Stats().Scanned >= scanned+50 })
	}
	for i := range 50 {
		got, _, err := s.Get(ctx, fmt.Sprint("k", i))
		if err != nil || string(got) != "new" {
			t.Fatalf("k%d = %q, %v; want new", i, got, err)
		}
	}
	if k := s.Stats().Keys; k != 50 {
		t.Fatalf("Keys = %d, want 50", k)
	}
}

// TestSweepCatchesUp checks that the sweeper does not fall behind when more
// keys expire than one batch per tick removes: with a tick of an hour, only
// the sweep at Open and the catch-up sweeps can remove them.
func TestSweepCatchesUp(t *testing.T) {
	const n, batch = 3000, 100
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	s := testOpen(t, dir, func(o *Options) {
		o.Now = func() time.Time { return t0 }
		o.SweepInterval = -1
	})
	for i := range n {
		if err := s.Put(t.Context(), fmt.Sprint("k", i), nil, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	waitMerged(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = testOpen(t, dir, func(o *Options) {
		o.Now = func() time.Time { return t0.Add(time.Hour) }
		o.SweepInterval = time.Hour
		o.SweepBatch = batch
	})
	waitFor(t, "the sweeper to catch up", func() bool { return s.Stats().Swept == n })
	if k := s.Stats().Keys; k != 0 {
		t.Fatalf("Keys = %d after sweeping everything", k)
	}
}
