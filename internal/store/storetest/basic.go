package storetest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/store"
)

var basicCases = []suiteCase{
	{"GetMissing", testGetMissing},
	{"PutGet", testPutGet},
	{"Overwrite", testOverwrite},
	{"Delete", testDelete},
	{"DeleteMissing", testDeleteMissing},
	{"BinaryKeys", testBinaryKeys},
	{"EmptyValueIsNotMissing", testEmptyValue},
	{"NoAliasing", testNoAliasing},
	{"ManyKeys", testManyKeys},
}

// bigValue is 64 KiB with a pattern, so a truncated or shifted copy shows.
func bigValue() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func testGetMissing(t *testing.T, s store.Store) {
	wantMissing(t, s, "nope")
}

func testPutGet(t *testing.T, s store.Store) {
	exp := future()
	tests := []struct {
		name string
		key  string
		val  []byte
	}{
		{"text", "k1", []byte("hello")},
		{"binary", "k2", []byte{0, 1, 2, 0xff, 0xfe, 0}},
		{"empty", "k3", []byte{}},
		{"nil", "k4", nil},
		{"decimal", "k5", []byte("12")},
		{"64KiB", "k6", bigValue()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mustPut(t, s, tc.key, tc.val, exp)
			got, gotExp := mustGet(t, s, tc.key)
			if !bytes.Equal(got, tc.val) {
				t.Fatalf("Get = %s, want %s", short(got), short(tc.val))
			}
			wantExpiry(t, tc.key, gotExp, exp)
		})
	}
}

func testOverwrite(t *testing.T, s store.Store) {
	e1, e2 := future(), future().Add(time.Hour)
	mustPut(t, s, "k", []byte("first"), e1)
	mustPut(t, s, "k", []byte("second, longer"), e2)
	got, exp := mustGet(t, s, "k")
	if string(got) != "second, longer" {
		t.Fatalf("Get = %s, want the second value", short(got))
	}
	wantExpiry(t, "k", exp, e2)
	mustPut(t, s, "k", []byte("3"), e1)
	wantValue(t, s, "k", []byte("3"))
}

func testDelete(t *testing.T, s store.Store) {
	mustPut(t, s, "k", []byte("v"), future())
	mustPut(t, s, "other", []byte("o"), future())
	if err := s.Delete(t.Context(), "k"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantMissing(t, s, "k")
	wantValue(t, s, "other", []byte("o"))
	// A deleted key must come back to life cleanly.
	mustPut(t, s, "k", []byte("again"), future())
	wantValue(t, s, "k", []byte("again"))
}

func testDeleteMissing(t *testing.T, s store.Store) {
	if err := s.Delete(t.Context(), "never-existed"); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
	mustPut(t, s, "k", []byte("v"), future())
	for i := 0; i < 2; i++ {
		if err := s.Delete(t.Context(), "k"); err != nil {
			t.Fatalf("Delete #%d: %v", i+1, err)
		}
	}
	wantMissing(t, s, "k")
}

func testBinaryKeys(t *testing.T, s store.Store) {
	// Keys that are prefixes of each other or differ only after a NUL must
	// not collide, whatever the store does with C strings or separators.
	keys := []string{
		"a", "a\x00", "a\x00b", "\x00", "\x00\x00", "\xff\xfe\xfd", "g\x00198.51.100.0/24\x00a@b\x00c@d",
		strings.Repeat("k", 1000),
	}
	for i, k := range keys {
		mustPut(t, s, k, []byte{byte(i), 0, byte(i)}, future())
	}
	for i, k := range keys {
		wantValue(t, s, k, []byte{byte(i), 0, byte(i)})
	}
	if err := s.Delete(t.Context(), "a\x00"); err != nil {
		t.Fatal(err)
	}
	wantMissing(t, s, "a\x00")
	wantValue(t, s, "a", []byte{0, 0, 0})
	wantValue(t, s, "a\x00b", []byte{2, 0, 2})
}

func testEmptyValue(t *testing.T, s store.Store) {
	mustPut(t, s, "empty", []byte{}, future())
	got, _ := mustGet(t, s, "empty")
	if len(got) != 0 {
		t.Fatalf("Get = %s, want empty", short(got))
	}
	// nil means "absent", so it must not match a present empty value...
	wantCAS(t, s, "empty", nil, []byte("x"), future(), false)
	// ...and an empty old value must not match a missing key.
	wantCAS(t, s, "missing", []byte{}, []byte("x"), future(), false)
	wantMissing(t, s, "missing")
	wantCAS(t, s, "empty", []byte{}, []byte("x"), future(), true)
	wantValue(t, s, "empty", []byte("x"))
}

func testNoAliasing(t *testing.T, s store.Store) {
	val := []byte("original")
	mustPut(t, s, "k", val, future())
	copy(val, "CHANGED!")
	wantValue(t, s, "k", []byte("original"))

	got, _ := mustGet(t, s, "k")
	copy(got, "CHANGED!")
	wantValue(t, s, "k", []byte("original"))

	newVal := []byte("swapped")
	wantCAS(t, s, "k", []byte("original"), newVal, future(), true)
	copy(newVal, "CHANGED")
	wantValue(t, s, "k", []byte("swapped"))
}

func testManyKeys(t *testing.T, s store.Store) {
	const n = 2000
	for i := 0; i < n; i++ {
		mustPut(t, s, "many/"+itoa(i), []byte(itoa(i*3)), future())
	}
	for i := 0; i < n; i += 2 {
		if err := s.Delete(t.Context(), "many/"+itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			wantMissing(t, s, "many/"+itoa(i))
		} else {
			wantValue(t, s, "many/"+itoa(i), []byte(itoa(i*3)))
		}
	}
}
