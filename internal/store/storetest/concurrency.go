package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/tempfail/tempfail/internal/store"
)

var concurrencyCases = []suiteCase{
	{"ConcurrentCAS", testConcurrentCAS},
	{"ConcurrentIncr", testConcurrentIncr},
	{"ConcurrentDistinctKeys", testConcurrentDistinct},
}

const (
	workers       = 32
	perWorker     = 100
	wantConcTotal = workers * perWorker
)

// runWorkers runs fn in workers goroutines and reports their errors.
func runWorkers(t *testing.T, fn func(w int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			if err := fn(w); err != nil {
				errs <- fmt.Errorf("worker %d: %w", w, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testConcurrentCAS increments one counter by read + CAS loops. Any lost
// update (a CAS that succeeded against a stale read) shows in the total.
func testConcurrentCAS(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPut(t, s, "n", []byte("0"), future())
	runWorkers(t, func(int) error {
		for i := 0; i < perWorker; i++ {
			for {
				cur, _, err := s.Get(ctx, "n")
				if err != nil {
					return err
				}
				n, err := store.ParseCounter(cur)
				if err != nil {
					return err
				}
				ok, err := s.CompareAndSwap(ctx, "n", cur, store.AppendCounter(nil, n+1), future())
				if err != nil {
					return err
				}
				if ok {
					break
				}
			}
		}
		return nil
	})
	wantValue(t, s, "n", store.AppendCounter(nil, wantConcTotal))
}

func testConcurrentIncr(t *testing.T, s store.Store) {
	ctx := t.Context()
	runWorkers(t, func(w int) error {
		for i := 0; i < perWorker; i++ {
			// Mixed signs: +2 -1 per pair keeps the sum predictable.
			if _, err := s.Incr(ctx, "n", 2, future()); err != nil {
				return err
			}
			if _, err := s.Incr(ctx, "n", -1, future()); err != nil {
				return err
			}
		}
		return nil
	})
	wantValue(t, s, "n", store.AppendCounter(nil, wantConcTotal))
}

func testConcurrentDistinct(t *testing.T, s store.Store) {
	ctx := t.Context()
	runWorkers(t, func(w int) error {
		for i := 0; i < perWorker; i++ {
			key := fmt.Sprintf("w%d/%d", w, i%10)
			val := fmt.Appendf(nil, "%d-%d", w, i)
			if err := s.Put(ctx, key, val, future()); err != nil {
				return err
			}
			got, _, err := s.Get(ctx, key)
			if err != nil {
				return fmt.Errorf("read own write %q: %w", key, err)
			}
			if string(got) != string(val) {
				return fmt.Errorf("read own write %q = %q, want %q", key, got, val)
			}
			if i%3 == 0 {
				if err := s.Delete(ctx, key); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
