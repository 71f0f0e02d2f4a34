package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/store"
)

var expiryCases = []suiteCase{
	{"ExpiredPutIsMissing", testExpiredPut},
	{"ExpiresSoon", testExpiresSoon},
	{"ExpiredPutHidesOldValue", testExpiredPutHidesOld},
	{"ExpiredKeyCASAbsent", testExpiredCAS},
	{"ExpiredKeyIncrRestarts", testExpiredIncr},
	{"ExpiredKeyDelete", testExpiredDelete},
	{"FarExpiry", testFarExpiry},
}

func testExpiredPut(t *testing.T, s store.Store) {
	for _, exp := range []time.Time{past(), time.Now().Add(-time.Nanosecond), time.Unix(0, 0), time.Unix(1, 0)} {
		mustPut(t, s, "k", []byte("v"), exp)
		wantMissing(t, s, "k")
	}
}

// testExpiresSoon writes a key that expires a nanosecond from now. It must
// disappear without the store being told anything else; the poll only waits
// for the store's clock (a Redis server rounds to milliseconds).
func testExpiresSoon(t *testing.T, s store.Store) {
	mustPut(t, s, "k", []byte("v"), time.Now().Add(time.Nanosecond))
	deadline := time.Now().Add(2 * time.Second)
	for {
		_, _, err := s.Get(t.Context(), "k")
		if errors.Is(err, store.ErrNotFound) {
			return
		}
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("key expiring 1ns ahead still readable 2s later")
		}
		time.Sleep(time.Millisecond)
	}
}

func testExpiredPutHidesOld(t *testing.T, s store.Store) {
	mustPut(t, s, "k", []byte("live"), future())
	mustPut(t, s, "k", []byte("dead"), past())
	wantMissing(t, s, "k")
}

func testExpiredCAS(t *testing.T, s store.Store) {
	mustPut(t, s, "k", []byte("stale"), past())
	// The stale value must not be visible to CAS either.
	wantCAS(t, s, "k", []byte("stale"), []byte("x"), future(), false)
	exp := future()
	wantCAS(t, s, "k", nil, []byte("fresh"), exp, true)
	got, gotExp := mustGet(t, s, "k")
	if string(got) != "fresh" {
		t.Fatalf("Get = %s, want fresh", short(got))
	}
	wantExpiry(t, "k", gotExp, exp)
}

func testExpiredIncr(t *testing.T, s store.Store) {
	mustPut(t, s, "c", []byte("40"), past())
	exp := future()
	if n := mustIncr(t, s, "c", 2, exp); n != 2 {
		t.Fatalf("Incr on expired counter = %d, want 2 (restart at delta)", n)
	}
	_, gotExp := mustGet(t, s, "c")
	wantExpiry(t, "c", gotExp, exp)

	// An expired non-number must not make Incr fail either.
	mustPut(t, s, "junk", []byte("not a number"), past())
	if n := mustIncr(t, s, "junk", -3, exp); n != -3 {
		t.Fatalf("Incr on expired junk = %d, want -3", n)
	}

	// Incr whose window is already over counts, but leaves nothing behind.
	if n := mustIncr(t, s, "gone", 5, past()); n != 5 {
		t.Fatalf("Incr with past expiry = %d, want 5", n)
	}
	wantMissing(t, s, "gone")
}

func testExpiredDelete(t *testing.T, s store.Store) {
	mustPut(t, s, "k", []byte("v"), past())
	if err := s.Delete(t.Context(), "k"); err != nil {
		t.Fatalf("Delete expired: %v", err)
	}
	wantMissing(t, s, "k")
}

func testFarExpiry(t *testing.T, s store.Store) {
	exp := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
	mustPut(t, s, "k", []byte("v"), exp)
	_, got := mustGet(t, s, "k")
	wantExpiry(t, "k", got, exp)
}
