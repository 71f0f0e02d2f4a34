package ratelimit

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseRate: never panics; whatever parses is valid, prints in the
// canonical form and reads back to the same Rate; errors carry the input.
// Seeds are in testdata/fuzz/FuzzParseRate.
func FuzzParseRate(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ratelimit: rate ") {
				t.Fatalf("ParseRate(%q) error %q lacks the prefix", s, err)
			}
			return
		}
		if err := r.Validate(); err != nil {
			t.Fatalf("ParseRate(%q) = %v, which does not validate: %v", s, r, err)
		}
		back, err := ParseRate(r.String())
		if err != nil || back != r {
			t.Fatalf("ParseRate(%q) = %#v; its String %q reads back as %#v, %v", s, r, r.String(), back, err)
		}
		if back.String() != r.String() {
			t.Fatalf("String not canonical: %q then %q", r.String(), back.String())
		}
		if _, err := NewLimit(r, 1); err != nil {
			t.Fatalf("NewLimit(%v, 1): %v", r, err)
		}
	})
}

// FuzzDecide: for any state, clock and cost, Decide keeps its invariants
// and its RetryAfter is exact.
func FuzzDecide(f *testing.F) {
	f.Add(int64(0), t0, int64(1), int64(2), int64(3600), int64(2))
	f.Add(t0+int64(3600e9), t0, int64(1), int64(2), int64(3600), int64(2))
	f.Add(int64(-1), int64(-1), int64(-1), int64(7), int64(3600), int64(3))
	f.Add(int64(1<<62), int64(1<<62), int64(5), int64(1000), int64(86400), int64(1000))
	f.Fuzz(func(t *testing.T, tat, now, cost, count, periodSec, burst int64) {
		r := Rate{Count: count}
		if periodSec > 0 && periodSec <= int64(MaxPeriod/time.Second) {
			r.Period = time.Duration(periodSec) * time.Second
		}
		l, err := NewLimit(r, burst)
		if err != nil {
			return
		}
		res := Decide(tat, now, cost, l)
		tol, T := int64(l.Tolerance()), int64(l.Interval())
		if res.RetryAfter < 0 || res.ResetAfter < 0 || int64(res.ResetAfter) > tol || res.Remaining < 0 || res.Remaining > l.Burst() {
			t.Fatalf("Decide(%d, %d, %d, %v) = %+v: out of range", tat, now, cost, l, res)
		}
		if res.Allowed && res.Never || res.Never != (cost > l.Burst()) {
			t.Fatalf("Decide(%d, %d, %d, %v) = %+v: Never wrong", tat, now, cost, l, res)
		}
		if res.Allowed != (res.RetryAfter == 0 && !res.Never) {
			t.Fatalf("Decide(%d, %d, %d, %v) = %+v: RetryAfter wrong", tat, now, cost, l, res)
		}
		if res.Remaining != (tol-int64(res.ResetAfter))/T {
			t.Fatalf("Decide(%d, %d, %d, %v) = %+v: Remaining does not match ResetAfter", tat, now, cost, l, res)
		}
		cn := min(max(now, 0), maxNow)
		if res.TAT > cn+tol {
			t.Fatalf("Decide(%d, %d, %d, %v) = %+v: new TAT beyond a full bucket", tat, now, cost, l, res)
		}
		if !res.Allowed && !res.Never {
			if !Decide(res.TAT, cn+int64(res.RetryAfter), cost, l).Allowed ||
				Decide(res.TAT, cn+int64(res.RetryAfter)-1, cost, l).Allowed {
				t.Fatalf("Decide(%d, %d, %d, %v) = %+v: RetryAfter not exact", tat, now, cost, l, res)
			}
		}
	})
}
