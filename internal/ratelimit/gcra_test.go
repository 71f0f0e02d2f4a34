package ratelimit

import (
	"math"
	"strings"
	"testing"
	"time"
)

// mustLimit parses rate and builds a Limit; burst 0 means DefaultBurst.
func mustLimit(t testing.TB, rate string, burst int64) Limit {
	t.Helper()
	r, err := ParseRate(rate)
	if err != nil {
		t.Fatal(err)
	}
	if burst == 0 {
		burst = DefaultBurst(r)
	}
	l, err := NewLimit(r, burst)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// t0 is an arbitrary "now": 2025-01-01T00:00:00Z.
const t0 = int64(1735689600) * int64(time.Second)

func TestDecide(t *testing.T) {
	const (
		m = int64(time.Minute)
		h = int64(time.Hour)
	)
	twoH := mustLimit(t, "2/h", 2) // T = 30m, tolerance 1h
	tests := []struct {
		name      string
		l         Limit
		tat, now  int64
		cost      int64
		want      Result
		wantClamp bool
	}{
		{"first request", twoH, 0, t0, 1,
			Result{Allowed: true, TAT: t0 + 30*m, ResetAfter: 30 * time.Minute, Remaining: 1}, false},
		{"second at once", twoH, t0 + 30*m, t0, 1,
			Result{Allowed: true, TAT: t0 + h, ResetAfter: time.Hour, Remaining: 0}, false},
		{"burst exhausted", twoH, t0 + h, t0, 1,
			Result{TAT: t0 + h, RetryAfter: 30 * time.Minute, ResetAfter: time.Hour}, false},
		{"retry after exact: 27 minutes later", twoH, t0 + h, t0 + 3*m, 1,
			Result{TAT: t0 + h, RetryAfter: 27 * time.Minute, ResetAfter: 57 * time.Minute}, false},
		{"one nanosecond early", twoH, t0 + h, t0 + 30*m - 1, 1,
			Result{TAT: t0 + h, RetryAfter: 1, ResetAfter: 30*time.Minute + 1}, false},
		{"exactly on time", twoH, t0 + h, t0 + 30*m, 1,
			Result{Allowed: true, TAT: t0 + h + 30*m, ResetAfter: time.Hour, Remaining: 0}, false},
		{"cost 2 after idle", twoH, 0, t0, 2,
			Result{Allowed: true, TAT: t0 + h, ResetAfter: time.Hour, Remaining: 0}, false},
		{"cost 2 with one used", twoH, t0 + 30*m, t0, 2,
			Result{TAT: t0 + 30*m, RetryAfter: 30 * time.Minute, ResetAfter: 30 * time.Minute, Remaining: 1}, false},
		{"cost 2 with one used, partly drained", twoH, t0 + 30*m, t0 + 10*m, 2,
			Result{TAT: t0 + 30*m, RetryAfter: 20 * time.Minute, ResetAfter: 20 * time.Minute, Remaining: 1}, false},
		{"cost above burst never passes", twoH, 0, t0, 3,
			Result{Never: true, TAT: 0, Remaining: 2}, false},
		{"cost above burst, bucket busy", twoH, t0 + h, t0, 3,
			Result{Never: true, TAT: t0 + h, ResetAfter: time.Hour}, false},
		{"cost 0 peeks", twoH, t0 + 30*m, t0, 0,
			Result{Allowed: true, TAT: t0 + 30*m, ResetAfter: 30 * time.Minute, Remaining: 1}, false},
		{"negative cost counts as 0", twoH, t0 + 30*m, t0, -5,
			Result{Allowed: true, TAT: t0 + 30*m, ResetAfter: 30 * time.Minute, Remaining: 1}, false},
		{"huge idle gap", twoH, t0 - 10*365*24*h, t0, 1,
			Result{Allowed: true, TAT: t0 + 30*m, ResetAfter: 30 * time.Minute, Remaining: 1}, false},
		{"TAT in the past by one nanosecond", twoH, t0 - 1, t0, 1,
			Result{Allowed: true, TAT: t0 + 30*m, ResetAfter: 30 * time.Minute, Remaining: 1}, false},
		{"clock back within tolerance", twoH, t0 + 50*m, t0, 1,
			Result{TAT: t0 + 50*m, RetryAfter: 20 * time.Minute, ResetAfter: 50 * time.Minute}, false},
		// The last request filled the bucket at t0+4h; the clock now reads
		// t0: it is treated as a full bucket at t0, as if the last request
		// had just happened, and the corrected state is returned.
		{"clock stepped back 4h", twoH, t0 + 5*h, t0, 1,
			Result{TAT: t0 + h, RetryAfter: 30 * time.Minute, ResetAfter: time.Hour}, false},
		{"garbage TAT far in the future", twoH, math.MaxInt64, t0, 1,
			Result{TAT: t0 + h, RetryAfter: 30 * time.Minute, ResetAfter: time.Hour}, false},
		{"garbage TAT far in the past", twoH, math.MinInt64, t0, 1,
			Result{Allowed: true, TAT: t0 + 30*m, ResetAfter: 30 * time.Minute, Remaining: 1}, false},
		{"burst above count", mustLimit(t, "1/h", 5), t0 + 4*h, t0, 1,
			Result{Allowed: true, TAT: t0 + 5*h, ResetAfter: 5 * time.Hour}, false},
		{"100/d: T is 864 s", mustLimit(t, "100/d", 100), 0, t0, 10,
			Result{Allowed: true, TAT: t0 + 8640*int64(time.Second), ResetAfter: 8640 * time.Second, Remaining: 90}, false},
		// 7/h does not divide: T = ceil(3600e9/7) = 514285714286 ns.
		{"7/h rounds T up", mustLimit(t, "7/h", 1), t0 + 514285714286, t0, 1,
			Result{TAT: t0 + 514285714286, RetryAfter: 514285714286, ResetAfter: 514285714286}, false},
		{"zero Limit denies cost 1", Limit{}, 0, t0, 1, Result{Never: true}, false},
		{"zero Limit allows cost 0", Limit{}, 0, t0, 0, Result{Allowed: true}, false},
		{"now before 1970 is clamped to 0", twoH, 0, -h, 1,
			Result{Allowed: true, TAT: 30 * m, ResetAfter: 30 * time.Minute, Remaining: 1}, false},
		{"now near the end of int64 is clamped", twoH, 0, math.MaxInt64, 2,
			Result{Allowed: true, TAT: maxNow + h, ResetAfter: time.Hour}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.tat, tt.now, tt.cost, tt.l)
			if got != tt.want {
				t.Errorf("Decide(%d, %d, %d, %v) =\n %+v\nwant\n %+v", tt.tat, tt.now, tt.cost, tt.l, got, tt.want)
			}
		})
	}
}

// TestDecideRetryAfterIsExact: waiting RetryAfter passes, one nanosecond
// less does not, for every state of a bucket filled request by request.
func TestDecideRetryAfterIsExact(t *testing.T) {
	for _, spec := range []struct {
		rate  string
		burst int64
	}{{"2/h", 2}, {"7/h", 3}, {"100/d", 10}, {"5/30s", 1}, {"3/1.5s", 4}} {
		l := mustLimit(t, spec.rate, spec.burst)
		for cost := int64(1); cost <= l.Burst(); cost++ {
			tat := int64(0)
			for i := 0; i < 50; i++ {
				now := t0 + int64(i)*int64(l.Interval())/3
				r := Decide(tat, now, cost, l)
				if r.Allowed {
					tat = r.TAT
					continue
				}
				if r.TAT != tat || r.RetryAfter <= 0 {
					t.Fatalf("%v cost %d: denial %+v changed state or has no wait", l, cost, r)
				}
				at := now + int64(r.RetryAfter)
				if !Decide(tat, at, cost, l).Allowed {
					t.Fatalf("%v cost %d: not allowed after RetryAfter %v", l, cost, r.RetryAfter)
				}
				if Decide(tat, at-1, cost, l).Allowed {
					t.Fatalf("%v cost %d: allowed 1ns before RetryAfter %v", l, cost, r.RetryAfter)
				}
			}
		}
	}
}

// TestDecideBurstAfterIdle: after a long idle time exactly Burst requests
// of cost 1 pass at the same instant.
func TestDecideBurstAfterIdle(t *testing.T) {
	for _, burst := range []int64{1, 2, 3, 10, 1000} {
		l := mustLimit(t, "10/m", burst)
		tat, n := int64(0), int64(0)
		for i := int64(0); i < burst+5; i++ {
			r := Decide(tat, t0, 1, l)
			if !r.Allowed {
				break
			}
			tat, n = r.TAT, n+1
			if r.Remaining != burst-n {
				t.Fatalf("burst %d: Remaining after %d = %d", burst, n, r.Remaining)
			}
		}
		if n != burst {
			t.Errorf("burst %d: %d passed at once", burst, n)
		}
	}
}

func TestNewLimit(t *testing.T) {
	r := Rate{2, time.Hour}
	l, err := NewLimit(r, 2)
	if err != nil {
		t.Fatal(err)
	}
	if l.Rate() != r || l.Burst() != 2 || l.Interval() != 30*time.Minute || l.Tolerance() != time.Hour {
		t.Errorf("NewLimit(2/h, 2) = %v: interval %v, tolerance %v", l, l.Interval(), l.Tolerance())
	}
	if s := l.String(); s != "2/h burst 2" {
		t.Errorf("String = %q", s)
	}
	for _, tt := range []struct {
		r     Rate
		burst int64
		want  string
	}{
		{r, 0, "burst 0 must be at least 1"},
		{r, -1, "burst -1 must be at least 1"},
		{Rate{1, day}, 1_000_000, "is too large: a full burst would take more than"},
		{Rate{0, time.Hour}, 1, "count must be at least 1"},
	} {
		_, err := NewLimit(tt.r, tt.burst)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewLimit(%v, %d) = %v, want an error containing %q", tt.r, tt.burst, err, tt.want)
		}
	}
	// The largest burst accepted still cannot overflow.
	big := int64(MaxTolerance) / int64(day)
	l, err = NewLimit(Rate{1, day}, big)
	if err != nil {
		t.Fatal(err)
	}
	if r := Decide(math.MaxInt64, math.MaxInt64, big, l); r.Allowed || r.RetryAfter != l.Tolerance() {
		t.Errorf("Decide at the edge = %+v", r)
	}
}
