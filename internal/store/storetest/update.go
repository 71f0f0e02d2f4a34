package storetest

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/store"
)

// updateCases hold a store.Updater to its contract; stores that do not
// implement it skip them.
var updateCases = []suiteCase{
	{"UpdateAbsent", testUpdateAbsent},
	{"UpdatePresent", testUpdatePresent},
	{"UpdateNoWrite", testUpdateNoWrite},
	{"UpdateDelete", testUpdateDelete},
	{"UpdateToExpired", testUpdateToExpired},
	{"UpdateSeesExpiredAsAbsent", testUpdateExpired},
	{"UpdateEmptyValue", testUpdateEmpty},
	{"UpdateCopiesValue", testUpdateCopies},
	{"UpdateAfterOtherWrites", testUpdateMixed},
	{"ConcurrentUpdate", testConcurrentUpdate},
	{"UpdateBadKeyAndClosed", testUpdateErrors},
}

func updater(t *testing.T, s store.Store) store.Updater {
	t.Helper()
	u, ok := s.(store.Updater)
	if !ok {
		t.Skip("the store does not implement store.Updater")
	}
	return u
}

// update runs one Update, checks fn ran exactly once, and returns what fn
// saw.
func update(t *testing.T, u store.Updater, key string, new []byte, exp time.Time, write bool) (old []byte, found bool) {
	t.Helper()
	calls := 0
	err := u.Update(t.Context(), key, func(o []byte, f bool) ([]byte, time.Time, bool) {
		calls++
		old, found = bytes.Clone(o), f
		return new, exp, write
	})
	if err != nil {
		t.Fatalf("Update(%q): %v", key, err)
	}
	if calls != 1 {
		t.Fatalf("Update(%q) called fn %d times, want 1", key, calls)
	}
	return old, found
}

func testUpdateAbsent(t *testing.T, s store.Store) {
	u := updater(t, s)
	exp := future()
	if old, found := update(t, u, "k", []byte("v"), exp, true); found || old != nil {
		t.Fatalf("absent key: fn saw %s, found %v", short(old), found)
	}
	got, gotExp := mustGet(t, s, "k")
	if string(got) != "v" {
		t.Fatalf("Get = %s, want \"v\"", short(got))
	}
	wantExpiry(t, "k", gotExp, exp)
}

func testUpdatePresent(t *testing.T, s store.Store) {
	u := updater(t, s)
	mustPut(t, s, "k", []byte("a"), future())
	exp := future().Add(time.Hour)
	if old, found := update(t, u, "k", []byte("b"), exp, true); !found || string(old) != "a" {
		t.Fatalf("fn saw %s, found %v; want \"a\", true", short(old), found)
	}
	got, gotExp := mustGet(t, s, "k")
	if string(got) != "b" {
		t.Fatalf("Get = %s, want \"b\"", short(got))
	}
	wantExpiry(t, "k", gotExp, exp)
	// Big values pass through whole.
	if old, _ := update(t, u, "k", bigValue(), exp, true); string(old) != "b" {
		t.Fatalf("fn saw %s, want \"b\"", short(old))
	}
	if old, _ := update(t, u, "k", []byte("c"), exp, true); !bytes.Equal(old, bigValue()) {
		t.Fatalf("fn saw %s, want the 64 KiB value", short(old))
	}
}

func testUpdateNoWrite(t *testing.T, s store.Store) {
	u := updater(t, s)
	exp := future()
	mustPut(t, s, "k", []byte("a"), exp)
	update(t, u, "k", []byte("ignored"), past(), false)
	got, gotExp := mustGet(t, s, "k")
	if string(got) != "a" {
		t.Fatalf("Get after write=false = %s, want \"a\"", short(got))
	}
	wantExpiry(t, "k", gotExp, exp)
	update(t, u, "missing", []byte("ignored"), future(), false)
	wantMissing(t, s, "missing")
}

func testUpdateDelete(t *testing.T, s store.Store) {
	u := updater(t, s)
	mustPut(t, s, "k", []byte("a"), future())
	update(t, u, "k", nil, future(), true)
	wantMissing(t, s, "k")
	// Deleting an absent key is no error.
	update(t, u, "k", nil, future(), true)
	wantMissing(t, s, "k")
	if _, found := update(t, u, "k", []byte("b"), future(), true); found {
		t.Fatal("a deleted key read as found")
	}
	wantValue(t, s, "k", []byte("b"))
}

func testUpdateToExpired(t *testing.T, s store.Store) {
	u := updater(t, s)
	mustPut(t, s, "k", []byte("a"), future())
	update(t, u, "k", []byte("b"), past(), true)
	wantMissing(t, s, "k")
	if _, found := update(t, u, "k", []byte("c"), future(), true); found {
		t.Fatal("a key written with a past expiry read as found")
	}
	wantValue(t, s, "k", []byte("c"))
}

func testUpdateExpired(t *testing.T, s store.Store) {
	u := updater(t, s)
	mustPut(t, s, "k", []byte("old"), time.Now().Add(time.Nanosecond))
	time.Sleep(2 * time.Millisecond)
	if old, found := update(t, u, "k", []byte("new"), future(), true); found || old != nil {
		t.Fatalf("expired key: fn saw %s, found %v; want absent", short(old), found)
	}
	wantValue(t, s, "k", []byte("new"))
}

func testUpdateEmpty(t *testing.T, s store.Store) {
	u := updater(t, s)
	update(t, u, "k", []byte{}, future(), true)
	wantValue(t, s, "k", []byte{})
	if old, found := update(t, u, "k", []byte("x"), future(), true); !found || len(old) != 0 {
		t.Fatalf("empty value: fn saw %s, found %v; want present and empty", short(old), found)
	}
}

func testUpdateCopies(t *testing.T, s store.Store) {
	u := updater(t, s)
	buf := []byte("abc")
	update(t, u, "k", buf, future(), true)
	copy(buf, "xyz")
	wantValue(t, s, "k", []byte("abc"))
}

// testUpdateMixed: Update sees what the other operations wrote, and they
// see what it wrote.
func testUpdateMixed(t *testing.T, s store.Store) {
	u := updater(t, s)
	mustIncr(t, s, "c", 41, future())
	if old, _ := update(t, u, "c", []byte("100"), future(), true); string(old) != "41" {
		t.Fatalf("after Incr fn saw %s, want \"41\"", short(old))
	}
	if n := mustIncr(t, s, "c", 1, future()); n != 101 {
		t.Fatalf("Incr after Update = %d, want 101", n)
	}
	update(t, u, "k", []byte("u"), future(), true)
	wantCAS(t, s, "k", []byte("u"), []byte("cas"), future(), true)
	if old, _ := update(t, u, "k", []byte("u2"), future(), true); string(old) != "cas" {
		t.Fatalf("after CompareAndSwap fn saw %s, want \"cas\"", short(old))
	}
	if err := s.Delete(t.Context(), "k"); err != nil {
		t.Fatal(err)
	}
	if _, found := update(t, u, "k", nil, time.Time{}, false); found {
		t.Fatal("after Delete fn saw the key")
	}
}

// testConcurrentUpdate increments one counter with Update from many
// goroutines: a lost update shows in the total.
func testConcurrentUpdate(t *testing.T, s store.Store) {
	u := updater(t, s)
	ctx := t.Context()
	runWorkers(t, func(int) error {
		for i := 0; i < perWorker; i++ {
			var ferr error
			err := u.Update(ctx, "n", func(old []byte, found bool) ([]byte, time.Time, bool) {
				var n int64
				if found {
					if n, ferr = store.ParseCounter(old); ferr != nil {
						return nil, time.Time{}, false
					}
				}
				return store.AppendCounter(nil, n+1), future(), true
			})
			if err == nil {
				err = ferr
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	wantValue(t, s, "n", []byte(itoa(wantConcTotal)))
}

func testUpdateErrors(t *testing.T, s store.Store) {
	u := updater(t, s)
	ctx := t.Context()
	called := false
	fn := func([]byte, bool) ([]byte, time.Time, bool) { called = true; return []byte("x"), future(), true }
	for _, key := range []string{"", strings.Repeat("k", store.MaxKeyLen+1)} {
		if err := u.Update(ctx, key, fn); !errors.Is(err, store.ErrBadKey) {
			t.Errorf("Update with a %d-byte key = %v, want ErrBadKey", len(key), err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := u.Update(ctx, "k", fn); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Update after Close = %v, want ErrClosed", err)
	}
	if called {
		t.Error("Update called fn for a bad key or a closed store")
	}
}
