package storetest

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/store"
)

var incrCases = []suiteCase{
	{"Incr", testIncr},
	{"IncrKeepsFirstExpiry", testIncrKeepsExpiry},
	{"IncrRejectsNonCounter", testIncrRejects},
}

func testIncr(t *testing.T, s store.Store) {
	tests := []struct {
		name    string
		initial []byte // nil: key absent
		deltas  []int64
		want    int64
	}{
		{"create", nil, []int64{5}, 5},
		{"create-zero", nil, []int64{0}, 0},
		{"add", nil, []int64{5, 3}, 8},
		{"negative", nil, []int64{5, -7}, -2},
		{"create-negative", nil, []int64{-4}, -4},
		{"from-put", []byte("41"), []int64{1}, 42},
		{"from-put-negative", []byte("-10"), []int64{3}, -7},
		{"to-max", []byte("9223372036854775806"), []int64{1}, math.MaxInt64},
		{"to-min", []byte("-9223372036854775807"), []int64{-1}, math.MinInt64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "incr/" + tc.name
			if tc.initial != nil {
				mustPut(t, s, key, tc.initial, future())
			}
			var n int64
			for _, d := range tc.deltas {
				n = mustIncr(t, s, key, d, future())
			}
			if n != tc.want {
				t.Fatalf("Incr = %d, want %d", n, tc.want)
			}
			// Decimal ASCII is part of the contract (store.Store.Incr).
			wantValue(t, s, key, store.AppendCounter(nil, tc.want))
		})
	}
}

func testIncrKeepsExpiry(t *testing.T, s store.Store) {
	e1 := future()
	mustIncr(t, s, "c", 1, e1)
	mustIncr(t, s, "c", 1, e1.Add(time.Hour))
	mustIncr(t, s, "c", 1, e1.Add(-30*time.Minute))
	v, exp := mustGet(t, s, "c")
	if string(v) != "3" {
		t.Fatalf("counter = %s, want 3", short(v))
	}
	wantExpiry(t, "c", exp, e1)

	// A counter created by Put keeps the Put's expiry too.
	mustPut(t, s, "p", []byte("7"), e1)
	mustIncr(t, s, "p", 1, e1.Add(time.Hour))
	_, exp = mustGet(t, s, "p")
	wantExpiry(t, "p", exp, e1)
}

func testIncrRejects(t *testing.T, s store.Store) {
	tests := []struct {
		name  string
		value []byte
		delta int64
	}{
		{"text", []byte("abc"), 1},
		{"empty", []byte{}, 1},
		{"float", []byte("1.5"), 1},
		{"space", []byte(" 1"), 1},
		{"too-big", []byte("99999999999999999999"), 1},
		{"overflow", []byte("9223372036854775807"), 1},
		{"underflow", []byte("-9223372036854775808"), -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := "bad/" + tc.name
			mustPut(t, s, key, tc.value, future())
			n, err := s.Incr(t.Context(), key, tc.delta, future())
			if err == nil {
				t.Fatalf("Incr on %s = %d, nil; want an error", short(tc.value), n)
			}
			if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrClosed) {
				t.Fatalf("Incr on %s: %v; want a counter error", short(tc.value), err)
			}
			wantValue(t, s, key, tc.value)
		})
	}
}
