package store

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestParseCounter(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr error
	}{
		{"0", 0, nil},
		{"42", 42, nil},
		{"-7", -7, nil},
		{"9223372036854775807", math.MaxInt64, nil},
		{"-9223372036854775808", math.MinInt64, nil},
		{"", 0, ErrNotCounter},
		{"abc", 0, ErrNotCounter},
		{"1.0", 0, ErrNotCounter},
		{" 1", 0, ErrNotCounter},
		{"9223372036854775808", 0, ErrNotCounter},
	}
	for _, tc := range tests {
		got, err := ParseCounter([]byte(tc.in))
		if got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("ParseCounter(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestAddCounter(t *testing.T) {
	tests := []struct {
		n, delta, want int64
		wantErr        error
	}{
		{1, 2, 3, nil},
		{1, -2, -1, nil},
		{math.MaxInt64 - 1, 1, math.MaxInt64, nil},
		{math.MaxInt64, 1, 0, ErrCounterOverflow},
		{math.MinInt64 + 1, -1, math.MinInt64, nil},
		{math.MinInt64, -1, 0, ErrCounterOverflow},
		{math.MinInt64, math.MaxInt64, -1, nil},
		{-1, math.MinInt64, 0, ErrCounterOverflow},
	}
	for _, tc := range tests {
		got, err := AddCounter(tc.n, tc.delta)
		if got != tc.want || !errors.Is(err, tc.wantErr) {
			t.Errorf("AddCounter(%d, %d) = %d, %v; want %d, %v", tc.n, tc.delta, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestCounterRoundTrip(t *testing.T) {
	for _, n := range []int64{0, 1, -1, math.MaxInt64, math.MinInt64} {
		b := AppendCounter(nil, n)
		if got, err := ParseCounter(b); got != n || err != nil {
			t.Errorf("round trip of %d via %q = %d, %v", n, b, got, err)
		}
	}
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		ok   bool
	}{
		{"empty", "", false},
		{"one byte", "k", true},
		{"NUL", "\x00", true},
		{"longest", strings.Repeat("k", MaxKeyLen), true},
		{"too long", strings.Repeat("k", MaxKeyLen+1), false},
	}
	for _, tc := range tests {
		err := CheckKey(tc.key)
		if (err == nil) != tc.ok || err != nil && !errors.Is(err, ErrBadKey) {
			t.Errorf("CheckKey(%s) = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
