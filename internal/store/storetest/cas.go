package storetest

import (
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/store"
)

var casCases = []suiteCase{
	{"CAS", testCAS},
	{"CASSetsExpiry", testCASExpiry},
	{"CASToExpired", testCASToExpired},
}

func testCAS(t *testing.T, s store.Store) {
	tests := []struct {
		name    string
		initial []byte // nil: key absent
		old     []byte
		new     []byte
		swapped bool
	}{
		{"absent/nil", nil, nil, []byte("n"), true},
		{"absent/value", nil, []byte("x"), []byte("n"), false},
		{"absent/empty", nil, []byte{}, []byte("n"), false},
		{"present/nil", []byte("a"), nil, []byte("n"), false},
		{"present/equal", []byte("a"), []byte("a"), []byte("n"), true},
		{"present/different", []byte("a"), []byte("b"), []byte("n"), false},
		{"present/prefix", []byte("ab"), []byte("a"), []byte("n"), false},
		{"present/longer", []byte("a"), []byte("ab"), []byte("n"), false},
		{"empty/empty", []byte{}, []byte{}, []byte("n"), true},
		{"present/to-empty", []byte("a"), []byte("a"), []byte{}, true},
		{"binary", []byte{0, 0xff}, []byte{0, 0xff}, []byte{0xff, 0}, true},
		{"64KiB", bigValue(), bigValue(), []byte("n"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "cas/" + tc.name
			if tc.initial != nil {
				mustPut(t, s, key, tc.initial, future())
			}
			wantCAS(t, s, key, tc.old, tc.new, future(), tc.swapped)
			switch {
			case tc.swapped:
				wantValue(t, s, key, tc.new)
			case tc.initial == nil:
				wantMissing(t, s, key)
			default:
				wantValue(t, s, key, tc.initial)
			}
		})
	}
}

func testCASExpiry(t *testing.T, s store.Store) {
	e1, e2 := future(), future().Add(time.Hour)
	mustPut(t, s, "k", []byte("a"), e1)
	wantCAS(t, s, "k", []byte("a"), []byte("b"), e2, true)
	_, got := mustGet(t, s, "k")
	wantExpiry(t, "k", got, e2)

	// A failed swap must not touch the expiry.
	wantCAS(t, s, "k", []byte("zzz"), []byte("c"), e1, false)
	_, got = mustGet(t, s, "k")
	wantExpiry(t, "k", got, e2)
}

func testCASToExpired(t *testing.T, s store.Store) {
	mustPut(t, s, "k", []byte("a"), future())
	wantCAS(t, s, "k", []byte("a"), []byte("b"), past(), true)
	wantMissing(t, s, "k")
	wantCAS(t, s, "k", nil, []byte("c"), future(), true)
	wantValue(t, s, "k", []byte("c"))
}
