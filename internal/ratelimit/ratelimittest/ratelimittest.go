// Package ratelimittest is the conformance suite of ratelimit.Limiter over a
// store.Store. It only uses the store.Store interface and the Limiter, so
// the in-memory store, the embedded store and a later Redis store (through
// its ratelimit.Atomic one-round-trip path or the Get + CompareAndSwap
// loop) are held to the same contract:
//
//   - Every decision equals ratelimit.Decide on the key's state, for
//     random sequences under a fake clock.
//   - A denial, a cost of 0, a cost above the burst and a Peek write
//     nothing.
//   - A key expires at its TAT + the Limiter's slack, so idle keys vanish.
//   - A value that cannot be read counts as a fresh key.
//   - 16 goroutines hammering one key get exactly what GCRA permits: no
//     update is lost.
//   - Store failures come back as errors.
//   - AllowAll charges several limits all or nothing: a refused request
//     leaves every key as it was, its Results are what Peeks say, and
//     refunds under concurrency give back exactly what they took.
//
// The fake clock starts at the real time and only moves forward, except in
// the clock-step test, which stays ahead of the real time: a store that
// decides expiry by its own (real) clock then never expires a key early.
package ratelimittest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/store"
)

// expiryTolerance is how far a key's expiry may be from TAT + slack; a Redis
// store keeps milliseconds.
const expiryTolerance = time.Millisecond

// Clock is a fake clock safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d (backwards if d < 0).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	st    store.Store
	clk   *Clock
	lm    *ratelimit.Limiter
	slack time.Duration
}

type suiteCase struct {
	name string
	fn   func(t *testing.T, e *env)
}

var cases = []suiteCase{
	{"BurstThenDenied", testBurstThenDenied},
	{"RetryAfterExact", testRetryAfterExact},
	{"DenialWritesNothing", testDenialWritesNothing},
	{"NeverAndZeroCostWriteNothing", testNeverAndZero},
	{"PeekWritesNothing", testPeek},
	{"KeyExpiresAfterTAT", testExpiry},
	{"IdleKeyStartsOver", testIdle},
	{"UnreadableValueStartsOver", testUnreadable},
	{"ClockSteppedBack", testClockBack},
	{"KeysAreIndependent", testIndependent},
	{"SequenceMatchesDecide", testSequence},
	{"ConcurrentOneKey", testConcurrentOneKey},
	{"ConcurrentManyKeys", testConcurrentManyKeys},
	{"NegativeCost", testNegativeCost},
	{"StoreErrors", testStoreErrors},
	{"AllowAllAllOrNothing", testAllowAllAllOrNothing},
	{"AllowAllSequence", testAllowAllSequence},
	{"AllowAllConcurrent", testAllowAllConcurrent},
}

// Run runs the suite against stores made by open, one fresh, empty store
// per subtest. The suite closes each store it gets.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := open(t)
			t.Cleanup(func() {
				if err := st.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
					t.Errorf("Close: %v", err)
				}
			})
			clk := NewClock(time.Now())
			const slack = 2 * time.Second
			e := &env{st: st, clk: clk, slack: slack,
				lm: ratelimit.New(st, ratelimit.Options{Now: clk.Now, Slack: slack})}
			tc.fn(t, e)
		})
	}
}

func limit(t testing.TB, rate string, burst int64) ratelimit.Limit {
	t.Helper()
	r, err := ratelimit.ParseRate(rate)
	if err != nil {
		t.Fatal(err)
	}
	l, err := ratelimit.NewLimit(r, burst)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func (e *env) allow(t testing.TB, key string, l ratelimit.Limit, cost int64) ratelimit.Result {
	t.Helper()
	r, err := e.lm.Allow(context.Background(), key, l, cost)
	if err != nil {
		t.Fatalf("Allow(%q, %v, %d): %v", key, l, cost, err)
	}
	return r
}

func (e *env) peek(t testing.TB, key string, l ratelimit.Limit, cost int64) ratelimit.Result {
	t.Helper()
	r, err := e.lm.Peek(context.Background(), key, l, cost)
	if err != nil {
		t.Fatalf("Peek(%q, %v, %d): %v", key, l, cost, err)
	}
	return r
}

// raw reads key from the store; found is false if it is missing.
func (e *env) raw(t testing.TB, key string) (val []byte, exp time.Time, found bool) {
	t.Helper()
	v, x, err := e.st.Get(context.Background(), key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, time.Time{}, false
	}
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return v, x, true
}

func wantResult(t testing.TB, what string, got, want ratelimit.Result) {
	t.Helper()
	if got != want {
		t.Fatalf("%s = %+v, want %+v", what, got, want)
	}
}

func testBurstThenDenied(t *testing.T, e *env) {
	l := limit(t, "2/h", 2)
	now := e.clk.Now().UnixNano()
	wantResult(t, "first", e.allow(t, "k", l, 1), ratelimit.Result{Allowed: true, TAT: now + int64(30*time.Minute), ResetAfter: 30 * time.Minute, Remaining: 1})
	wantResult(t, "second", e.allow(t, "k", l, 1), ratelimit.Result{Allowed: true, TAT: now + int64(time.Hour), ResetAfter: time.Hour})
	wantResult(t, "third", e.allow(t, "k", l, 1), ratelimit.Result{TAT: now + int64(time.Hour), RetryAfter: 30 * time.Minute, ResetAfter: time.Hour})
	e.clk.Advance(3 * time.Minute)
	wantResult(t, "third, 3 minutes later", e.allow(t, "k", l, 1), ratelimit.Result{TAT: now + int64(time.Hour), RetryAfter: 27 * time.Minute, ResetAfter: 57 * time.Minute})
}

func testRetryAfterExact(t *testing.T, e *env) {
	l := limit(t, "7/h", 3) // T does not divide: 514285714286 ns
	for e.allow(t, "k", l, 1).Allowed {
	}
	r := e.allow(t, "k", l, 2)
	if r.Allowed || r.RetryAfter <= 0 {
		t.Fatalf("cost 2 on a full bucket: %+v", r)
	}
	e.clk.Advance(r.RetryAfter - 1)
	if r2 := e.allow(t, "k", l, 2); r2.Allowed || r2.RetryAfter != 1 {
		t.Fatalf("1ns before RetryAfter: %+v, want denied with RetryAfter 1ns", r2)
	}
	e.clk.Advance(1)
	if r2 := e.allow(t, "k", l, 2); !r2.Allowed {
		t.Fatalf("at RetryAfter: %+v, want allowed", r2)
	}
}

func testDenialWritesNothing(t *testing.T, e *env) {
	l := limit(t, "2/h", 2)
	e.allow(t, "k", l, 2)
	v0, x0, _ := e.raw(t, "k")
	for i := 0; i < 5; i++ {
		e.clk.Advance(time.Minute)
		if r := e.allow(t, "k", l, 1); r.Allowed {
			t.Fatalf("request %d allowed on a full bucket: %+v", i, r)
		}
	}
	v1, x1, found := e.raw(t, "k")
	if !found || string(v0) != string(v1) || !x0.Equal(x1) {
		t.Fatalf("denials changed the key: %x %v -> %x %v (found %v)", v0, x0, v1, x1, found)
	}
}

func testNeverAndZero(t *testing.T, e *env) {
	l := limit(t, "10/m", 5)
	r := e.allow(t, "k", l, 6)
	wantResult(t, "cost 6 > burst 5", r, ratelimit.Result{Never: true, Remaining: 5})
	wantResult(t, "cost 0", e.allow(t, "k", l, 0), ratelimit.Result{Allowed: true, Remaining: 5})
	if _, _, found := e.raw(t, "k"); found {
		t.Fatal("a Never denial or a cost of 0 created the key")
	}
}

func testPeek(t *testing.T, e *env) {
	l := limit(t, "2/h", 2)
	wantResult(t, "Peek on a new key", e.peek(t, "k", l, 0), ratelimit.Result{Allowed: true, Remaining: 2})
	wantResult(t, "Peek cost 1 on a new key", e.peek(t, "k", l, 1),
		ratelimit.Result{Allowed: true, TAT: e.clk.Now().UnixNano() + int64(30*time.Minute), ResetAfter: 30 * time.Minute, Remaining: 1})
	if _, _, found := e.raw(t, "k"); found {
		t.Fatal("Peek created the key")
	}
	first := e.allow(t, "k", l, 1)
	v0, x0, _ := e.raw(t, "k")
	for i := 0; i < 3; i++ {
		wantResult(t, "Peek after one", e.peek(t, "k", l, 0), ratelimit.Result{Allowed: true, TAT: first.TAT, ResetAfter: 30 * time.Minute, Remaining: 1})
	}
	p := e.peek(t, "k", l, 2)
	if p.Allowed || p.RetryAfter != 30*time.Minute {
		t.Fatalf("Peek cost 2 after one: %+v, want denied, retry after 30m", p)
	}
	if v1, x1, _ := e.raw(t, "k"); string(v0) != string(v1) || !x0.Equal(x1) {
		t.Fatal("Peek changed the key")
	}
	if r := e.allow(t, "k", l, 1); !r.Allowed || r.Remaining != 0 {
		t.Fatalf("Allow after Peeks: %+v, want the second unit", r)
	}
}

func testExpiry(t *testing.T, e *env) {
	l := limit(t, "100/d", 100)
	r := e.allow(t, "k", l, 3)
	v, x, found := e.raw(t, "k")
	if !found {
		t.Fatal("allowed request left no key")
	}
	want := time.Unix(0, r.TAT).Add(e.slack)
	if d := x.Sub(want); d > expiryTolerance || d < -expiryTolerance {
		t.Fatalf("key expires at %v, want TAT + slack = %v", x, want)
	}
	if _, isAtomic := e.st.(ratelimit.Atomic); !isAtomic {
		if tat, ok := ratelimit.DecodeTAT(v); !ok || tat != r.TAT {
			t.Fatalf("stored value %x, want the TAT %d in 8 bytes", v, r.TAT)
		}
	}
	// A later request moves the expiry with the TAT.
	e.clk.Advance(time.Minute)
	r = e.allow(t, "k", l, 1)
	_, x, _ = e.raw(t, "k")
	want = time.Unix(0, r.TAT).Add(e.slack)
	if d := x.Sub(want); d > expiryTolerance || d < -expiryTolerance {
		t.Fatalf("after a second request the key expires at %v, want %v", x, want)
	}
}

func testIdle(t *testing.T, e *env) {
	l := limit(t, "5/30s", 5)
	e.allow(t, "k", l, 5)
	e.clk.Advance(10 * time.Minute)
	if r := e.allow(t, "k", l, 1); !r.Allowed || r.Remaining != 4 {
		t.Fatalf("after idling: %+v, want the full burst", r)
	}
}

func testUnreadable(t *testing.T, e *env) {
	if _, isAtomic := e.st.(ratelimit.Atomic); isAtomic {
		t.Skip("an Atomic store owns its value format")
	}
	l := limit(t, "2/h", 2)
	if err := e.st.Put(context.Background(), "k", []byte("not a TAT"), e.clk.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	r := e.allow(t, "k", l, 1)
	if !r.Allowed || r.Remaining != 1 {
		t.Fatalf("over an unreadable value: %+v, want a fresh bucket", r)
	}
	if v, _, _ := e.raw(t, "k"); len(v) != 8 {
		t.Fatalf("unreadable value not replaced: %q", v)
	}
}

func testClockBack(t *testing.T, e *env) {
	l := limit(t, "2/h", 2)
	e.clk.Advance(4 * time.Hour)
	e.allow(t, "k", l, 2) // full bucket, TAT = now + 1h
	e.clk.Advance(-3 * time.Hour)
	// The state is 4h ahead: treated as a full bucket now.
	now := e.clk.Now().UnixNano()
	wantResult(t, "after the clock stepped back 3h", e.allow(t, "k", l, 1),
		ratelimit.Result{TAT: now + int64(time.Hour), RetryAfter: 30 * time.Minute, ResetAfter: time.Hour})
	e.clk.Advance(30 * time.Minute)
	if r := e.allow(t, "k", l, 1); !r.Allowed {
		t.Fatalf("RetryAfter later: %+v, want allowed", r)
	}
	if r := e.allow(t, "k", l, 1); r.Allowed {
		t.Fatalf("a second request at once: %+v, want denied", r)
	}
}

func testIndependent(t *testing.T, e *env) {
	l := limit(t, "1/h", 1)
	a, b := ratelimit.Key("new_clients", "192.0.2.1"), ratelimit.Key("new_clients", "192.0.2.2")
	if !e.allow(t, a, l, 1).Allowed || !e.allow(t, b, l, 1).Allowed {
		t.Fatal("first requests of two keys not both allowed")
	}
	if e.allow(t, a, l, 1).Allowed || e.allow(t, b, l, 1).Allowed {
		t.Fatal("second requests allowed")
	}
}

// testSequence drives random requests through the Limiter and through
// Decide on a local TAT; every Result must be identical.
func testSequence(t *testing.T, e *env) {
	rng := rand.New(rand.NewPCG(42, 7))
	for _, spec := range []struct {
		rate  string
		burst int64
	}{{"2/h", 2}, {"7/h", 3}, {"100/d", 250}, {"13/7s", 13}} {
		l := limit(t, spec.rate, spec.burst)
		key := "seq/" + spec.rate
		tat := int64(0)
		for i := 0; i < 300; i++ {
			switch rng.IntN(3) {
			case 0:
			case 1:
				e.clk.Advance(time.Duration(rng.Int64N(int64(l.Interval()))))
			default:
				e.clk.Advance(time.Duration(rng.Int64N(int64(l.Tolerance()))))
			}
			cost := rng.Int64N(l.Burst() + 2)
			want := ratelimit.Decide(tat, e.clk.Now().UnixNano(), cost, l)
			var got ratelimit.Result
			if rng.IntN(5) == 0 {
				got = e.peek(t, key, l, cost)
			} else {
				got = e.allow(t, key, l, cost)
				tat = want.TAT
			}
			wantResult(t, fmt.Sprintf("%v request %d cost %d", l, i, cost), got, want)
		}
	}
}

const goroutines = 16

// allowRetrying retries ErrContention, which the test counts: under this
// much contention on two cores a request may lose every race.
func (e *env) allowRetrying(key string, l ratelimit.Limit, cost int64, contended *atomic.Int64) (ratelimit.Result, error) {
	for {
		r, err := e.lm.Allow(context.Background(), key, l, cost)
		if errors.Is(err, ratelimit.ErrContention) {
			contended.Add(1)
			continue
		}
		return r, err
	}
}

// testConcurrentOneKey: 16 goroutines on one key under a frozen clock,
// with mixed costs and then cost 1 until denied. GCRA permits exactly
// Burst units; a lost update would let more through.
func testConcurrentOneKey(t *testing.T, e *env) {
	const burst = 3000
	l := limit(t, "10/h", burst)
	var lost atomic.Int64
	if _, isAtomic := e.st.(ratelimit.Atomic); !isAtomic {
		// Count lost CompareAndSwap races, to show the test races.
		e.lm = ratelimit.New(casCounter{e.st, &lost}, ratelimit.Options{Now: e.clk.Now, Slack: e.slack})
	}
	var allowed, contended atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	start := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		wg.Go(func() {
			<-start
			for _, cost := range []int64{int64(g%3) + 1, 1} {
				for {
					r, err := e.allowRetrying("one", l, cost, &contended)
					if err != nil {
						errs <- err
						return
					}
					if !r.Allowed {
						break
					}
					allowed.Add(cost)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := allowed.Load(); got != burst {
		t.Fatalf("%d goroutines got %d units through, GCRA permits exactly %d", goroutines, got, burst)
	}
	if r := e.peek(t, "one", l, 0); r.Remaining != 0 || r.ResetAfter != l.Tolerance() {
		t.Fatalf("state after the run: %+v, want a full bucket", r)
	}
	t.Logf("%d lost CompareAndSwap races, %d ErrContention retries", lost.Load(), contended.Load())
}

// casCounter counts CompareAndSwap calls that lose, and yields the
// processor between a Get and the CompareAndSwap after it, so that
// goroutines interleave there even on one core.
type casCounter struct {
	store.Store
	lost *atomic.Int64
}

func (s casCounter) Get(ctx context.Context, key string) ([]byte, time.Time, error) {
	v, x, err := s.Store.Get(ctx, key)
	runtime.Gosched()
	return v, x, err
}

func (s casCounter) CompareAndSwap(ctx context.Context, key string, old, new []byte, exp time.Time) (bool, error) {
	ok, err := s.Store.CompareAndSwap(ctx, key, old, new, exp)
	if err == nil && !ok {
		s.lost.Add(1)
	}
	return ok, err
}

// testConcurrentManyKeys: goroutines on distinct keys each get exactly their
// burst, while the clock moves.
func testConcurrentManyKeys(t *testing.T, e *env) {
	l := limit(t, "3/h", 3)
	var wg sync.WaitGroup
	var contended atomic.Int64
	got := make([]int64, goroutines*4)
	errs := make(chan error, len(got))
	for g := range got {
		wg.Go(func() {
			key := ratelimit.Key("many", fmt.Sprint(g))
			for i := 0; i < 6; i++ {
				r, err := e.allowRetrying(key, l, 1, &contended)
				if err != nil {
					errs <- err
					return
				}
				if r.Allowed {
					got[g]++
				}
				if g == 0 {
					e.clk.Advance(time.Second)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for g, n := range got {
		if n != 3 {
			t.Errorf("key %d: %d allowed, want 3", g, n)
		}
	}
}

func testNegativeCost(t *testing.T, e *env) {
	l := limit(t, "2/h", 2)
	if _, err := e.lm.Allow(context.Background(), "k", l, -1); !errors.Is(err, ratelimit.ErrNegativeCost) {
		t.Fatalf("Allow with cost -1: %v, want ErrNegativeCost", err)
	}
	if _, err := e.lm.Peek(context.Background(), "k", l, -1); !errors.Is(err, ratelimit.ErrNegativeCost) {
		t.Fatalf("Peek with cost -1: %v, want ErrNegativeCost", err)
	}
}

func testStoreErrors(t *testing.T, e *env) {
	l := limit(t, "2/h", 2)
	ctx := context.Background()
	if _, err := e.lm.Allow(ctx, "", l, 1); !errors.Is(err, store.ErrBadKey) {
		t.Errorf("Allow with an empty key: %v, want store.ErrBadKey", err)
	}
	if err := e.st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.lm.Allow(ctx, "k", l, 1); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Allow on a closed store: %v, want store.ErrClosed", err)
	}
	if _, err := e.lm.Peek(ctx, "k", l, 0); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Peek on a closed store: %v, want store.ErrClosed", err)
	}
}
