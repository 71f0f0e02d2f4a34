package boltstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/store"
	"github.com/tempfail/tempfail/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	modes := []struct {
		name string
		opt  func(*Options)
	}{
		// Most reads are answered by the overlay.
		{"write-behind", nil},
		// A commit every millisecond or 16 writes, so reads and
		// read-modify-writes also go to the log and race with commits.
		{"eager", func(o *Options) { o.FlushInterval = time.Millisecond; o.MaxPending = 16 }},
		// Also a merge every 8 logged entries, in transactions of 3, so
		// that reads go to kv too and race with merges, snapshots and
		// the logged cap.
		{"eager-merge", func(o *Options) {
			o.FlushInterval = time.Millisecond
			o.MaxPending = 16
			o.MergeThreshold = 8
			o.mergeChunk = 3
		}},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			var merged atomic.Int64
			storetest.Run(t, func(t *testing.T) store.Store {
				return testOpen(t, "", func(o *Options) {
					if m.opt != nil {
						m.opt(o)
					}
					o.OnMerge = func(n int, _ bool, _ time.Duration, err error) {
						if err == nil {
							merged.Add(int64(n))
						}
					}
				})
			})
			t.Logf("%d entries merged into kv", merged.Load())
			if m.name == "eager-merge" && merged.Load() < 1000 {
				t.Errorf("only %d entries merged: the suite hardly reads from kv", merged.Load())
			}
		})
	}
}

func TestReopen(t *testing.T) {
	modes := []struct {
		name string
		opt  func(*Options)
	}{
		// Nothing is merged: every reopen replays the whole log.
		{"log", noMerge},
		// Merged as it goes: reopens find most of it in kv.
		{"merged", func(o *Options) { o.FlushInterval = time.Millisecond; o.MaxPending = 16; o.MergeThreshold = 8 }},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			storetest.RunReopen(t, func(t *testing.T, dir string) store.Store { return testOpen(t, dir, m.opt) })
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	testOpen(t, dir, nil) // holds the lock for the rest of the test
	tests := []struct {
		name    string
		opts    Options
		wantErr error  // checked with errors.Is, if set
		wantMsg string // substring of the error
	}{
		{"empty path", Options{}, nil, "empty path"},
		{"locked", Options{Path: filepath.Join(dir, "tempfail.db"), LockTimeout: 20 * time.Millisecond}, ErrLocked, "locked by another process"},
		{"missing dir", Options{Path: filepath.Join(dir, "no/such/dir.db")}, nil, "no/such/dir.db"},
		{"not a database", Options{Path: dir}, nil, dir},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Logger = quietLog
			s, err := Open(tc.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tc.wantMsg)
			}
		})
	}
}

// TestFlushFailureKeepsData makes commits fail as a full disk would: the
// writes must stay readable, be retried, and reach the disk once commits
// work again.
func TestFlushFailureKeepsData(t *testing.T) {
	dir := t.TempDir()
	failing := make(chan bool, 1)
	failing <- true
	flushErrs := make(chan error, 100)
	s := testOpen(t, dir, func(o *Options) {
		o.FlushInterval = time.Millisecond
		o.failCommit = func() error {
			f := <-failing
			failing <- f
			if f {
				return errors.New("injected: no space left on device")
			}
			return nil
		}
		o.OnFlush = func(_ int, _ time.Duration, err error) {
			select {
			case flushErrs <- err:
			default:
			}
		}
	})
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	for i := range 100 {
		if err := s.Put(ctx, fmt.Sprint("k", i), []byte(fmt.Sprint("v", i)), exp); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-flushErrs; err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("first commit err = %v, want the injected failure", err)
	}
	// Writes after the failure land in a later batch and must win.
	if err := s.Put(ctx, "k0", []byte("newer"), exp); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "k1"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a retried commit to fail", func() bool { return s.Stats().FlushErrors >= 2 })
	check := func(s *Store) {
		t.Helper()
		for i := range 100 {
			got, _, err := s.Get(ctx, fmt.Sprint("k", i))
			want := fmt.Sprint("v", i)
			switch i {
			case 0:
				want = "newer"
			case 1:
				if !errors.Is(err, store.ErrNotFound) {
					t.Fatalf("deleted k1: Get = %q, %v", got, err)
				}
				continue
			}
			if err != nil || string(got) != want {
				t.Fatalf("Get(k%d) = %q, %v; want %q", i, got, err, want)
			}
		}
	}
	check(s)
	if st := s.Stats(); st.Pending < 99 || st.Flushes != 0 {
		t.Fatalf("while failing: %+v, want 99+ pending and no successful commit", st)
	}

	<-failing
	failing <- false
	waitMerged(t, s)
	if st := s.Stats(); st.Keys != 99 {
		t.Fatalf("after recovery Keys = %d, want 99", st.Keys)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(testOpen(t, dir, nil))
}

func TestCloseReportsLostWrites(t *testing.T) {
	s := testOpen(t, "", func(o *Options) {
		o.FlushInterval = time.Millisecond
		o.failCommit = func() error { return errors.New("injected: I/O error") }
	})
	if err := s.Put(t.Context(), "k", []byte("v"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	err := s.Close()
	if err == nil || !strings.Contains(err.Error(), "1 writes lost") {
		t.Fatalf("Close = %v, want it to report the lost write", err)
	}
}

func TestKeyCount(t *testing.T) {
	dir := t.TempDir()
	s := testOpen(t, dir, func(o *Options) { o.FlushInterval = time.Millisecond })
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	steps := []struct {
		name string
		do   func() error
		want int64
	}{
		{"insert 10", func() error {
			for i := range 10 {
				if err := s.Put(ctx, fmt.Sprint(i), nil, exp); err != nil {
					return err
				}
			}
			return nil
		}, 10},
		{"overwrite", func() error { return s.Put(ctx, "3", []byte("x"), exp) }, 10},
		{"delete", func() error { return s.Delete(ctx, "4") }, 9},
		{"delete missing", func() error { return s.Delete(ctx, "nope") }, 9},
		{"put then delete", func() error {
			if err := s.Put(ctx, "tmp", nil, exp); err != nil {
				return err
			}
			return s.Delete(ctx, "tmp")
		}, 9},
		{"incr", func() error { _, err := s.Incr(ctx, "c", 1, exp); return err }, 10},
		{"expired put removes", func() error { return s.Put(ctx, "5", nil, time.Now().Add(-time.Second)) }, 9},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		waitMerged(t, s)
		if got := s.Stats().Keys; got != st.want {
			t.Fatalf("after %s: Keys = %d, want %d", st.name, got, st.want)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := testOpen(t, dir, nil).Stats().Keys; got != 9 {
		t.Fatalf("Keys after reopen = %d, want 9", got)
	}
}

// TestBackpressure checks that writers outrunning a slow disk wait instead
// of growing the batch, and with it the crash window, without bound.
func TestBackpressure(t *testing.T) {
	const maxPending, writers, perWriter = 10, 4, 100
	var mu sync.Mutex
	largest := 0
	s := testOpen(t, "", func(o *Options) {
		o.MaxPending = maxPending
		o.SweepInterval = -1
		o.failCommit = func() error { time.Sleep(5 * time.Millisecond); return nil } // a slow disk
		o.OnFlush = func(n int, _ time.Duration, _ error) {
			mu.Lock()
			defer mu.Unlock()
			largest = max(largest, n)
		}
	})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				if err := s.Put(t.Context(), fmt.Sprint(w, "/", i), nil, time.Now().Add(time.Hour)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if p := s.Stats().Pending; p > 2*maxPending {
		t.Errorf("Pending = %d, want at most %d", p, 2*maxPending)
	}
	waitCommitted(t, s)
	mu.Lock()
	defer mu.Unlock()
	if largest > maxPending {
		t.Errorf("largest commit %d keys, MaxPending %d", largest, maxPending)
	}
}
