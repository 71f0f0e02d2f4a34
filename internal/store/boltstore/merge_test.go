package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tempfail/tempfail/internal/store"
)

// noMerge keeps logged entries out of kv until a test asks for a merge.
func noMerge(o *Options) {
	o.MergeThreshold = 1 << 30
	o.MergeInterval = time.Hour
}

// kvGet reads key straight from bucket kv, bypassing the overlay.
func kvGet(t *testing.T, s *Store, key string) []byte {
	t.Helper()
	var rec []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if r := tx.Bucket(kvBucket).Get([]byte(key)); r != nil {
			rec = append([]byte{}, r...)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// logRecords counts the records in bucket log.
func logRecords(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(logBucket).Stats().KeyN
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// crashCopy copies the file as a crash right now would leave it: exactly
// the last commit, since a read transaction sees nothing else.
func crashCopy(t *testing.T, s *Store) (dir string) {
	t.Helper()
	dir = t.TempDir()
	err := s.db.View(func(tx *bolt.Tx) error { return tx.CopyFile(filepath.Join(dir, "tempfail.db"), 0o600) })
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func wantGet(t *testing.T, s *Store, key, want string) {
	t.Helper()
	got, _, err := s.Get(t.Context(), key)
	if want == "" {
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get(%q) = %q, %v; want not found", key, got, err)
		}
		return
	}
	if err != nil || string(got) != want {
		t.Fatalf("Get(%q) = %q, %v; want %q", key, got, err, want)
	}
}

func TestLogCodec(t *testing.T) {
	batch := map[string][]byte{
		"a":                     encode([]byte("v"), 1),
		"tomb":                  nil,
		"empty":                 encode(nil, 2),
		strings.Repeat("k", 40): encode(bytes.Repeat([]byte{0}, 300), 3),
	}
	buf := encodeBatch(batch)
	if batchLen(buf) != len(batch) {
		t.Fatalf("batchLen = %d", batchLen(buf))
	}
	got := map[string][]byte{}
	if err := decodeBatch(buf, nil, func(k string, rec []byte) { got[k] = rec }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(batch) {
		t.Fatalf("decoded %d entries, want %d", len(got), len(batch))
	}
	for k, rec := range batch {
		if g, ok := got[k]; !ok || (g == nil) != (rec == nil) || !bytes.Equal(g, rec) {
			t.Fatalf("%q = %x, want %x", k, g, rec)
		}
	}
	// A damaged value must fail to decode, never panic or invent keys.
	for i := range len(buf) {
		if err := decodeBatch(buf[:i], nil, func(string, []byte) {}); err == nil {
			t.Fatalf("truncated to %d bytes: no error", i)
		}
	}
	if err := decodeBatch(append(buf, 0), nil, func(string, []byte) {}); err == nil {
		t.Fatal("trailing byte: no error")
	}
	got = map[string][]byte{}
	skip := func(key []byte) bool { return string(key) <= "empty" }
	if err := decodeBatch(buf, skip, func(k string, rec []byte) { got[k] = rec }); err != nil {
		t.Fatal(err)
	}
	if _, ok := got["a"]; ok || len(got) != 2 {
		t.Fatalf("with skip: decoded %d entries (%v)", len(got), got)
	}
}

// TestReplayAfterCrash takes the file as a crash would leave it, with
// writes in the log that are not in kv (new keys, overwrites, a tombstone
// and a counter), and checks that Open replays them, that they merge
// correctly, and that the result survives another reopen.
func TestReplayAfterCrash(t *testing.T) {
	s := testOpen(t, "", func(o *Options) { noMerge(o); o.FlushInterval = time.Millisecond })
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	for i := range 100 {
		if err := s.Put(ctx, fmt.Sprint("old", i), []byte("in kv"), exp); err != nil {
			t.Fatal(err)
		}
	}
	waitMerged(t, s)
	for i := range 100 {
		if err := s.Put(ctx, fmt.Sprint("new", i), []byte("logged"), exp); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, "old0", []byte("overwritten"), exp); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "old1"); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, err := s.Incr(ctx, "ctr", 1, exp); err != nil {
			t.Fatal(err)
		}
		waitCommitted(t, s) // one log record each: replay must apply them in order
	}
	if n := logRecords(t, s); n < 5 {
		t.Fatalf("%d log records, want at least 5", n)
	}
	dir := crashCopy(t, s)
	checkIntegrity(t, filepath.Join(dir, "tempfail.db"))

	check := func(s *Store) {
		t.Helper()
		wantGet(t, s, "old0", "overwritten")
		wantGet(t, s, "old1", "")
		wantGet(t, s, "old2", "in kv")
		wantGet(t, s, "new99", "logged")
		wantGet(t, s, "ctr", "5")
	}
	r := testOpen(t, dir, noMerge)
	if st := r.Stats(); st.Keys != 100 || st.Logged != 103 {
		t.Fatalf("after replay: %+v, want 100 keys in kv and 103 logged", st)
	}
	check(r)
	waitMerged(t, r)
	if st := r.Stats(); st.Keys != 200 || st.Merges != 1 {
		t.Fatalf("after merge: %+v, want 200 keys, 1 merge", st)
	}
	if n := logRecords(t, r); n != 0 {
		t.Fatalf("%d log records left after the merge", n)
	}
	check(r)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	check(testOpen(t, dir, nil))
}

// TestMergeDropsExpired checks that entries expired by merge time do not
// reach kv, and that an expired overwrite deletes the older value kv has
// rather than letting it come back.
func TestMergeDropsExpired(t *testing.T) {
	var clock atomic.Int64
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock.Store(t0.UnixNano())
	s := testOpen(t, "", func(o *Options) {
		noMerge(o)
		o.Now = func() time.Time { return time.Unix(0, clock.Load()) }
		o.SweepInterval = -1
	})
	ctx := t.Context()
	if err := s.Put(ctx, "resurrect", []byte("old"), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	waitMerged(t, s)
	for k, exp := range map[string]time.Time{
		"resurrect": t0.Add(time.Minute),
		"short":     t0.Add(time.Minute),
		"long":      t0.Add(time.Hour),
	} {
		if err := s.Put(ctx, k, []byte("new"), exp); err != nil {
			t.Fatal(err)
		}
	}
	waitCommitted(t, s)
	clock.Store(t0.Add(2 * time.Minute).UnixNano())
	wantGet(t, s, "resurrect", "")
	wantGet(t, s, "short", "")
	waitMerged(t, s)
	if kvGet(t, s, "resurrect") != nil || kvGet(t, s, "short") != nil || kvGet(t, s, "long") == nil {
		t.Fatal("kv holds an expired entry or lacks the live one")
	}
	if k := s.Stats().Keys; k != 1 {
		t.Fatalf("Keys = %d, want 1", k)
	}
	wantGet(t, s, "resurrect", "")
	wantGet(t, s, "long", "new")
}

// TestTombstoneMergesDelete checks that a delete waiting in the log hides
// the key, removes it from kv at the merge, and keeps it removed.
func TestTombstoneMergesDelete(t *testing.T) {
	dir := t.TempDir()
	s := testOpen(t, dir, noMerge)
	ctx := t.Context()
	if err := s.Put(ctx, "k", []byte("v"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	waitMerged(t, s)
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	waitCommitted(t, s)
	if kvGet(t, s, "k") == nil || s.Stats().Logged != 1 {
		t.Fatalf("before the merge: kv lost the key or the tombstone is not logged (%+v)", s.Stats())
	}
	wantGet(t, s, "k", "")
	waitMerged(t, s)
	if kvGet(t, s, "k") != nil {
		t.Fatal("kv still has the deleted key after the merge")
	}
	if k := s.Stats().Keys; k != 0 {
		t.Fatalf("Keys = %d, want 0", k)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wantGet(t, testOpen(t, dir, nil), "k", "")
}

// TestOverwriteDuringMerge pauses a merge after its first transaction,
// overwrites and deletes keys the snapshot holds (merged already or not),
// and checks that the newer writes win: while the merge is paused, after it
// ends, after the next merge, in a crash copy taken mid-merge, and after a
// reopen.
func TestOverwriteDuringMerge(t *testing.T) {
	var hold, pause atomic.Bool
	pause.Store(true)
	dir := t.TempDir()
	s := testOpen(t, dir, func(o *Options) {
		noMerge(o)
		o.mergeChunk = 1 // one key per merge transaction, in key order
		o.holdMerge = hold.Load
		o.OnMerge = func(int, bool, time.Duration, error) { // pause after the first
			if pause.CompareAndSwap(true, false) {
				hold.Store(true)
			}
		}
	})
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	for _, k := range []string{"a", "b", "c", "d"} {
		if err := s.Put(ctx, k, []byte("old"), exp); err != nil {
			t.Fatal(err)
		}
	}
	waitCommitted(t, s)
	s.requestMerge()
	waitFor(t, "the first merge transaction", func() bool { return s.Stats().Merged == 1 })
	if kvGet(t, s, "a") == nil || kvGet(t, s, "b") != nil {
		t.Fatal("the merge is not paused after key a")
	}
	// A crash now leaves a, merged, in the log too; replay skips it.
	early := crashCopy(t, s)
	// a is merged already, c is not; d is deleted.
	if err := s.Put(ctx, "a", []byte("new"), exp); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "c", []byte("new"), exp); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	waitCommitted(t, s) // the new writes are logged, next to the paused snapshot
	check := func(s *Store) {
		t.Helper()
		wantGet(t, s, "a", "new")
		wantGet(t, s, "b", "old")
		wantGet(t, s, "c", "new")
		wantGet(t, s, "d", "")
	}
	check(s)
	mid := crashCopy(t, s)

	hold.Store(false)
	waitFor(t, "the paused merge to end", func() bool { return s.Stats().Merges == 1 })
	check(s) // the snapshot's old c and d are in kv now; logged must still win
	if string(kvGet(t, s, "c")[headerLen:]) != "old" {
		t.Fatal("the paused merge did not write its own snapshot")
	}
	waitMerged(t, s)
	check(s)
	if kvGet(t, s, "d") != nil || string(kvGet(t, s, "c")[headerLen:]) != "new" {
		t.Fatal("kv does not hold the newest writes after the second merge")
	}
	if k := s.Stats().Keys; k != 3 {
		t.Fatalf("Keys = %d, want 3", k)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check(testOpen(t, dir, nil))

	r := testOpen(t, early, noMerge)
	if st := r.Stats(); st.Logged != 3 || st.Keys != 1 {
		t.Fatalf("early crash copy: %+v, want a in kv and b, c, d logged", st)
	}
	for _, k := range []string{"a", "b", "c", "d"} {
		wantGet(t, r, k, "old")
	}
	waitMerged(t, r)
	if k := r.Stats().Keys; k != 4 {
		t.Fatalf("early crash copy after merge: Keys = %d, want 4", k)
	}

	// The crash copy holds a half-merged snapshot in kv and the whole log.
	checkIntegrity(t, filepath.Join(mid, "tempfail.db"))
	r = testOpen(t, mid, noMerge)
	check(r)
	waitMerged(t, r)
	check(r)
	if k := r.Stats().Keys; k != 3 {
		t.Fatalf("crash copy after merge: Keys = %d, want 3", k)
	}
}

// TestLoggedCapBackpressure holds merges, as a disk too slow for them
// would, and checks that writers wait once logCapFactor x MergeThreshold
// entries are logged instead of growing memory without bound, and go on
// when merges catch up.
func TestLoggedCapBackpressure(t *testing.T) {
	const threshold, maxPending, total = 10, 8, 200
	var hold atomic.Bool
	hold.Store(true)
	s := testOpen(t, "", func(o *Options) {
		o.MergeThreshold = threshold
		o.MaxPending = maxPending
		o.FlushInterval = time.Millisecond
		o.holdMerge = hold.Load
	})
	var written atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range total {
			if err := s.Put(t.Context(), fmt.Sprint("k", i), []byte("v"), time.Now().Add(time.Hour)); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	}()
	// Wait for the writer to stall: no progress for a while.
	for last := int64(-1); ; {
		time.Sleep(50 * time.Millisecond)
		n := written.Load()
		if n == last {
			break
		}
		last = n
	}
	st := s.Stats()
	if n := written.Load(); n >= total {
		t.Fatal("the writer never waited")
	}
	if cap := logCapFactor * threshold; st.Logged < cap || st.Logged > cap+maxPending {
		t.Fatalf("stalled with %d logged, want %d to %d", st.Logged, cap, cap+maxPending)
	}
	hold.Store(false)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the writer did not resume after merges caught up")
	}
	waitMerged(t, s)
	if k := s.Stats().Keys; k != total {
		t.Fatalf("Keys = %d, want %d", k, total)
	}
}

// TestMergeFailure makes merge transactions fail: writers must not wait for
// the logged entries to shrink then, nothing may be lost, and the entries
// must be merged once the disk works again.
func TestMergeFailure(t *testing.T) {
	const threshold = 10
	var failing atomic.Bool
	failing.Store(true)
	dir := t.TempDir()
	s := testOpen(t, dir, func(o *Options) {
		o.MergeThreshold = threshold
		o.MaxPending = 8 // many commits, so that the log outgrows the cap
		o.FlushInterval = time.Millisecond
		o.failMerge = func() error {
			if failing.Load() {
				return errors.New("injected: no space left on device")
			}
			return nil
		}
	})
	ctx := t.Context()
	const total = 5 * logCapFactor * threshold // five times the cap
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range total {
			if err := s.Put(ctx, fmt.Sprint("k", i), []byte("v"), time.Now().Add(time.Hour)); err != nil {
				t.Error(err)
				return
			}
		}
	})
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("writers waited for failing merges")
	}
	waitCommitted(t, s)
	waitFor(t, "a merge to fail", func() bool { return s.Stats().MergeErrors > 0 })
	if st := s.Stats(); st.Keys != 0 || st.Logged < total {
		t.Fatalf("while failing: %+v", st)
	}
	wantGet(t, s, "k0", "v")
	failing.Store(false)
	waitMerged(t, s)
	if st := s.Stats(); st.Keys != total {
		t.Fatalf("after recovery: %+v, want %d keys", st, total)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wantGet(t, testOpen(t, dir, nil), fmt.Sprint("k", total-1), "v")
}

// TestUpgradeFormat1 opens a file in the layout of format version 1 (no
// log bucket) and checks that it is upgraded in place and its data kept,
// and that a file from a newer format is refused.
func TestUpgradeFormat1(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tempfail.db")
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		kv, _ := tx.CreateBucket(kvBucket)
		meta, _ := tx.CreateBucket(metaBucket)
		if err := kv.Put([]byte("k"), encode([]byte("v1"), unixNano(time.Now().Add(time.Hour)))); err != nil {
			return err
		}
		if err := meta.Put(versionKey, encodeUint(1)); err != nil {
			return err
		}
		return meta.Put(keysKey, encodeUint(1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := testOpen(t, dir, nil)
	wantGet(t, s, "k", "v1")
	if k := s.Stats().Keys; k != 1 {
		t.Fatalf("Keys = %d, want 1", k)
	}
	if err := s.Put(t.Context(), "k2", []byte("v2"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = testOpen(t, dir, nil)
	wantGet(t, s, "k2", "v2")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		if v := decodeUint(tx.Bucket(metaBucket).Get(versionKey)); v != formatVersion {
			t.Errorf("version after upgrade = %d", v)
		}
		return tx.Bucket(metaBucket).Put(versionKey, encodeUint(formatVersion+1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if s, err := Open(Options{Path: path, Logger: quietLog}); err == nil {
		s.Close()
		t.Fatal("Open accepted a newer format")
	} else if !strings.Contains(err.Error(), "format version") {
		t.Fatalf("Open of a newer format: %v", err)
	}
}

// TestCloseMergesLog: Close merges what the log holds (within CloseMerge),
// so the next Open has nothing to replay; with CloseMerge < 0 the log is
// left for replay.
func TestCloseMergesLog(t *testing.T) {
	for _, tc := range []struct {
		name       string
		closeMerge time.Duration
		wantLogged bool
	}{{"merge", 0, false}, {"no merge", -1, true}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			s := testOpen(t, dir, func(o *Options) { o.CloseMerge = tc.closeMerge; o.MergeInterval = time.Hour })
			for i := 0; i < 2000; i++ {
				if err := s.Put(ctx, fmt.Sprint("k", i), []byte("v"), time.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = testOpen(t, dir, nil)
			if got := s.Stats().Logged > 0; got != tc.wantLogged {
				t.Fatalf("logged entries after reopen: %d", s.Stats().Logged)
			}
			for i := 0; i < 2000; i++ {
				if _, _, err := s.Get(ctx, fmt.Sprint("k", i)); err != nil {
					t.Fatalf("k%d: %v", i, err)
				}
			}
		})
	}
}
