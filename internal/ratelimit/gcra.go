package ratelimit

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

// MaxTolerance bounds Burst * Interval, the time a full burst takes to
// drain: about 18 years. It keeps every sum Decide computes inside int64.
const MaxTolerance = time.Duration(1 << 59)

// Limit is a validated rate and burst with GCRA's parameters derived from
// them. The zero Limit allows only requests of cost 0.
type Limit struct {
	rate     Rate
	burst    int64
	interval int64 // T, nanoseconds per unit of cost: Period/Count rounded up
	tol      int64 // Burst * T: the most a bucket holds
}

// NewLimit returns the limit "r with burst B": B units of cost may pass at
// once after a long idle time (see the package comment). Burst must be at
// least 1; DefaultBurst(r) is the usual choice.
func NewLimit(r Rate, burst int64) (Limit, error) {
	if err := r.Validate(); err != nil {
		return Limit{}, err
	}
	if burst < 1 {
		return Limit{}, fmt.Errorf("ratelimit: limit %s: burst %d must be at least 1", r, burst)
	}
	t := ceilDiv(int64(r.Period), r.Count)
	if burst > int64(MaxTolerance)/t {
		return Limit{}, fmt.Errorf("ratelimit: limit %s: burst %d is too large: a full burst would take more than %s to drain",
			r, burst, FormatWait(MaxTolerance))
	}
	return Limit{rate: r, burst: burst, interval: t, tol: burst * t}, nil
}

// DefaultBurst is r.Count: "2/h" lets a client send 2 messages at once,
// then one every 30 minutes.
func DefaultBurst(r Rate) int64 { return r.Count }

// Rate returns the limit's rate.
func (l Limit) Rate() Rate { return l.rate }

// Burst returns the limit's burst.
func (l Limit) Burst() int64 { return l.burst }

// Interval returns T, the time one unit of cost occupies: Period/Count,
// rounded up to a whole nanosecond.
func (l Limit) Interval() time.Duration { return time.Duration(l.interval) }

// Tolerance returns Burst * Interval, the time a full burst takes to
// drain. (I.371's tau is Tolerance - Interval.)
func (l Limit) Tolerance() time.Duration { return time.Duration(l.tol) }

// String reads "2/h burst 2".
func (l Limit) String() string {
	return l.rate.String() + " burst " + strconv.FormatInt(l.burst, 10)
}

// Result is one GCRA decision.
type Result struct {
	// Allowed reports whether the request passes.
	Allowed bool
	// Never is set when the cost exceeds the burst: the request is denied
	// and will be denied however long it waits (RetryAfter is 0).
	Never bool
	// TAT is the key's new state, Unix nanoseconds. It equals the TAT
	// passed in when nothing changed (a denial, a cost of 0), so a store
	// only needs writing when it differs; a denial changes it only to
	// correct a TAT from a clock that stepped back (see Decide).
	TAT int64
	// RetryAfter is, for a denial, exactly how long until the same request
	// would pass if nothing else arrives; 0 when allowed or Never.
	RetryAfter time.Duration
	// ResetAfter is how long until the full burst is available again.
	ResetAfter time.Duration
	// Remaining is how many units of cost could pass right now, after
	// this decision.
	Remaining int64
}

// maxNow bounds now so that now + 2*MaxTolerance fits in int64. It is in
// the year 2189.
const maxNow = math.MaxInt64 - 4*int64(MaxTolerance)

// Decide is GCRA: it decides a request of cost units at now (Unix
// nanoseconds) against the key's state tat (0 for a key never seen) and
// returns the decision and the new state. It is a pure function.
//
// A denied request changes nothing. A tat more than a full burst ahead of
// now (a clock that stepped back) is treated as a full bucket at now, and
// Result.TAT carries that corrected state. A negative cost counts as 0,
// now is clamped to [0, year 2189], and any tat is accepted, so Decide
// never overflows.
func Decide(tat, now, cost int64, l Limit) Result {
	now = min(max(now, 0), maxNow)
	cost = max(cost, 0)
	if l.interval == 0 {
		// The zero Limit: nothing but cost 0 passes.
		return Result{Allowed: cost == 0, Never: cost > 0, TAT: tat}
	}
	t, tol := l.interval, l.tol
	if tat > now+tol {
		tat = now + tol
	}
	level := max(tat, now) - now // 0 .. tol
	r := Result{TAT: tat}
	switch {
	case cost > l.burst:
		r.Never = true
	case cost == 0:
		r.Allowed = true
	case level+cost*t <= tol:
		r.Allowed = true
		level += cost * t
		r.TAT = now + level
	default:
		r.RetryAfter = time.Duration(level + cost*t - tol)
	}
	r.ResetAfter = time.Duration(level)
	r.Remaining = (tol - level) / t
	return r
}

// ceilDiv returns a/b rounded up, for a >= 0 and b > 0.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 {
		q++
	}
	return q
}
