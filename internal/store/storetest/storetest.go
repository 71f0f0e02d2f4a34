// Package storetest is the conformance suite every store.Store must pass.
// It only uses the store.Store interface, so the embedded store, the
// in-memory store and a later Redis store are held to the same contract:
//
//   - A missing, deleted or expired key reads as store.ErrNotFound, and
//     CompareAndSwap(old == nil) and Incr treat it as absent.
//   - An empty value is a present key, distinct from a missing one.
//   - Put copies its value; the slice Get returns belongs to the caller.
//   - Expiry is kept to at least millisecond precision.
//   - Incr counters are decimal ASCII (see store.Store.Incr).
//   - Keys are 1 to store.MaxKeyLen bytes; others fail with store.ErrBadKey.
//   - After Close every method, Close included, returns store.ErrClosed.
//   - A store that implements store.Updater runs fn once per Update with
//     the key's current state, atomically (no lost update under
//     concurrency), and applies its answer like Put, Delete or nothing.
//
// The suite never sleeps for long: expiry is tested with times in the past
// or a nanosecond ahead.
package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/store"
)

// expiryTolerance is how far a returned expiry may differ from the one
// written; a Redis store keeps milliseconds, not nanoseconds.
const expiryTolerance = time.Millisecond

type suiteCase struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// Run runs the conformance suite against stores made by open, one fresh,
// empty store per subtest (a shared server's store can use a key prefix per
// call). The suite closes each store it gets.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	var cases []suiteCase
	cases = append(cases, basicCases...)
	cases = append(cases, expiryCases...)
	cases = append(cases, casCases...)
	cases = append(cases, incrCases...)
	cases = append(cases, concurrencyCases...)
	cases = append(cases, badKeyCases...)
	cases = append(cases, closedCases...)
	cases = append(cases, updateCases...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { closeOnce(t, s) })
			tc.fn(t, s)
		})
	}
}

// closeOnce closes s, accepting that the test may already have closed it.
func closeOnce(t *testing.T, s store.Store) {
	t.Helper()
	if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
		t.Errorf("Close: %v", err)
	}
}

func future() time.Time { return time.Now().Add(time.Hour) }
func past() time.Time   { return time.Now().Add(-time.Hour) }

func mustPut(t *testing.T, s store.Store, key string, val []byte, exp time.Time) {
	t.Helper()
	if err := s.Put(t.Context(), key, val, exp); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func mustGet(t *testing.T, s store.Store, key string) ([]byte, time.Time) {
	t.Helper()
	v, exp, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v, exp
}

func wantValue(t *testing.T, s store.Store, key string, want []byte) {
	t.Helper()
	got, _ := mustGet(t, s, key)
	if !bytes.Equal(got, want) {
		t.Fatalf("Get(%q) = %s, want %s", key, short(got), short(want))
	}
}

func wantMissing(t *testing.T, s store.Store, key string) {
	t.Helper()
	v, _, err := s.Get(t.Context(), key)
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get(%q) = %s, %v; want ErrNotFound", key, short(v), err)
	}
}

func wantExpiry(t *testing.T, key string, got, want time.Time) {
	t.Helper()
	if d := got.Sub(want); d > expiryTolerance || d < -expiryTolerance {
		t.Fatalf("expiry of %q = %v, want %v (off by %v)", key, got, want, d)
	}
}

func wantCAS(t *testing.T, s store.Store, key string, old, new []byte, exp time.Time, want bool) {
	t.Helper()
	ok, err := s.CompareAndSwap(t.Context(), key, old, new, exp)
	if err != nil {
		t.Fatalf("CompareAndSwap(%q, %s, %s): %v", key, short(old), short(new), err)
	}
	if ok != want {
		t.Fatalf("CompareAndSwap(%q, %s, %s) = %v, want %v", key, short(old), short(new), ok, want)
	}
}

func mustIncr(t *testing.T, s store.Store, key string, delta int64, exp time.Time) int64 {
	t.Helper()
	n, err := s.Incr(t.Context(), key, delta, exp)
	if err != nil {
		t.Fatalf("Incr(%q, %d): %v", key, delta, err)
	}
	return n
}

// short keeps failure messages readable when values are 64 KiB.
func short(b []byte) string {
	if b == nil {
		return "<nil>"
	}
	if len(b) > 40 {
		return string(b[:40]) + "...(" + itoa(len(b)) + " bytes)"
	}
	return "\"" + string(b) + "\""
}

func itoa(n int) string { return string(store.AppendCounter(nil, int64(n))) }
