package boltstore

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// testOpen opens a store in dir (a fresh temp dir if empty), adjusted by
// opt, and closes it when the test ends unless the test already did.
func testOpen(t testing.TB, dir string, opt func(*Options)) *Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	o := Options{Path: filepath.Join(dir, "tempfail.db"), Logger: quietLog}
	if opt != nil {
		opt(&o)
	}
	s, err := Open(o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// waitFor polls cond until it holds; the flusher and sweeper are
// asynchronous, and polling beats a sleep sized for the slowest machine.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func waitCommitted(t testing.TB, s *Store) {
	t.Helper()
	waitFor(t, "pending writes to be committed", func() bool { return s.Stats().Pending == 0 })
}

// waitMerged waits until every write is in bucket kv: committed to the log,
// then merged, asking for merges rather than waiting for MergeThreshold or
// MergeInterval.
func waitMerged(t testing.TB, s *Store) {
	t.Helper()
	waitFor(t, "writes to be merged into kv", func() bool {
		if st := s.Stats(); st.Pending == 0 && st.Logged == 0 {
			// Done once the flusher has seen the request served, so
			// that it cannot merge the test's next writes early.
			return !s.forceMerge.Load()
		}
		s.requestMerge()
		return false
	})
}
