package boltstore

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestFilterNoFalseNegatives(t *testing.T) {
	f := newFilter(10000)
	for i := 0; i < 10000; i++ {
		f.add(fmt.Sprint("key", i))
	}
	fp := 0
	for i := 0; i < 10000; i++ {
		if !f.mayContain(fmt.Sprint("key", i)) {
			t.Fatalf("false negative for key%d", i)
		}
		if f.mayContain(fmt.Sprint("other", i)) {
			fp++
		}
	}
	if fp > 300 { // ~1% expected
		t.Fatalf("%d/10000 false positives", fp)
	}
}

// TestFilterAcrossReopenAndRebuilds writes keys while the key filter is
// rebuilt again and again, then checks every key still reads back, also
// after a reopen (when the filter is rebuilt from the file).
func TestFilterAcrossReopenAndRebuilds(t *testing.T) {
	old := filterMinKeys
	filterMinKeys = 64 // rebuild every few dozen writes
	defer func() { filterMinKeys = old }()
	dir := t.TempDir()
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	s := testOpen(t, dir, func(o *Options) { o.FlushInterval = time.Millisecond; o.MaxPending = 16 })
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if err := s.Put(ctx, fmt.Sprintf("k%d-%d", w, i), []byte("v"), exp); err != nil {
					t.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 50; i++ {
			s.buildFilter()
		}
	}()
	wg.Wait()
	waitCommitted(t, s)
	s.buildFilter()
	check := func(s *Store) {
		t.Helper()
		for w := 0; w < 4; w++ {
			for i := 0; i < 500; i++ {
				if _, _, err := s.Get(ctx, fmt.Sprintf("k%d-%d", w, i)); err != nil {
					t.Fatalf("k%d-%d: %v", w, i, err)
				}
			}
		}
	}
	check(s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = testOpen(t, dir, nil)
	waitFor(t, "key filter", func() bool { return s.filter.cur.Load() != nil })
	check(s)
}
