package storetest

import (
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/store"
)

// RunReopen checks that what a store acknowledged survives Close and a new
// open of the same place. open must return a store backed by dir (a Redis
// store may treat dir as a key namespace); the suite closes every store it
// opens. Three generations catch state that is only written at first open.
func RunReopen(t *testing.T, open func(t *testing.T, dir string) store.Store) {
	dir := t.TempDir()
	exp := time.Now().Add(time.Hour)
	big := bigValue()
	reopen := func(t *testing.T, fn func(s store.Store)) {
		t.Helper()
		s := open(t, dir)
		fn(s)
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}

	reopen(t, func(s store.Store) {
		ctx := t.Context()
		mustPut(t, s, "plain", []byte("v1"), exp)
		mustPut(t, s, "empty", []byte{}, exp)
		mustPut(t, s, "deleted", []byte("x"), exp)
		if err := s.Delete(ctx, "deleted"); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			mustIncr(t, s, "counter", 2, exp.Add(time.Duration(i)*time.Minute))
		}
		wantCAS(t, s, "cas", nil, []byte("c1"), exp, true)
		mustPut(t, s, "expired", []byte("x"), past())
		mustPut(t, s, "overwritten", []byte("a"), exp)
		mustPut(t, s, "overwritten", []byte("b"), exp)
		mustPut(t, s, "big", big, exp)
		for i := 0; i < 500; i++ {
			mustPut(t, s, "bulk/"+itoa(i), []byte(itoa(i)), exp)
		}
	})

	reopen(t, func(s store.Store) {
		v, gotExp := mustGet(t, s, "plain")
		if string(v) != "v1" {
			t.Fatalf("plain = %s after reopen", short(v))
		}
		wantExpiry(t, "plain", gotExp, exp)
		wantValue(t, s, "empty", []byte{})
		wantMissing(t, s, "deleted")
		_, gotExp = mustGet(t, s, "counter")
		wantExpiry(t, "counter", gotExp, exp)
		wantValue(t, s, "counter", []byte("6"))
		wantValue(t, s, "cas", []byte("c1"))
		wantMissing(t, s, "expired")
		wantValue(t, s, "overwritten", []byte("b"))
		wantValue(t, s, "big", big)
		for i := 0; i < 500; i++ {
			wantValue(t, s, "bulk/"+itoa(i), []byte(itoa(i)))
		}

		if err := s.Delete(t.Context(), "plain"); err != nil {
			t.Fatal(err)
		}
		if n := mustIncr(t, s, "counter", 4, exp.Add(time.Hour)); n != 10 {
			t.Fatalf("counter after reopen = %d, want 10", n)
		}
		wantCAS(t, s, "cas", []byte("c1"), []byte("c2"), exp, true)
		mustPut(t, s, "deleted", []byte("back"), exp)
	})

	reopen(t, func(s store.Store) {
		wantMissing(t, s, "plain")
		wantValue(t, s, "counter", []byte("10"))
		_, gotExp := mustGet(t, s, "counter")
		wantExpiry(t, "counter", gotExp, exp)
		wantValue(t, s, "cas", []byte("c2"))
		wantValue(t, s, "deleted", []byte("back"))
		wantValue(t, s, "bulk/499", []byte("499"))
	})
}
