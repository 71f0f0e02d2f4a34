package ratelimittest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/ratelimit"
)

func (e *env) allowAll(t testing.TB, cs []ratelimit.Charge) (bool, []ratelimit.Result) {
	t.Helper()
	rs := make([]ratelimit.Result, len(cs))
	ok, err := e.lm.AllowAll(context.Background(), cs, rs)
	if err != nil {
		t.Fatalf("AllowAll: %v", err)
	}
	return ok, rs
}

// testAllowAllAllOrNothing: a request refused by one limit is charged by
// none, and every Result says what a Peek would.
func testAllowAllAllOrNothing(t *testing.T, e *env) {
	a, b, c := limit(t, "10/h", 10), limit(t, "2/h", 2), limit(t, "100/d", 100)
	cs := []ratelimit.Charge{{Key: "a", Limit: a, Cost: 1}, {Key: "b", Limit: b, Cost: 1}, {Key: "c", Limit: c, Cost: 1}}
	for i := 0; i < 2; i++ {
		if ok, rs := e.allowAll(t, cs); !ok || !rs[0].Allowed || !rs[1].Allowed || !rs[2].Allowed {
			t.Fatalf("request %d: %v %+v, want all allowed", i, ok, rs)
		}
	}
	va, xa, _ := e.raw(t, "a")
	vc, xc, _ := e.raw(t, "c")
	for i := 0; i < 3; i++ {
		ok, rs := e.allowAll(t, cs)
		if ok || rs[1].Allowed || rs[1].RetryAfter != 30*time.Minute {
			t.Fatalf("third request: %v, b %+v, want refused by b, retry after 30m", ok, rs[1])
		}
		for _, j := range []int{0, 2} {
			wantResult(t, fmt.Sprintf("limit %d after the refusal", j), rs[j], e.peek(t, cs[j].Key, cs[j].Limit, 1))
		}
		// Peeks of cost 1: what would remain after this request.
		if rs[0].Remaining != 7 || rs[2].Remaining != 97 {
			t.Fatalf("refused request charged the others: remaining %d, %d; want 7, 97", rs[0].Remaining, rs[2].Remaining)
		}
	}
	// A refusal by the first limit; the others are only peeked.
	first := []ratelimit.Charge{cs[1], cs[0], cs[2]}
	if ok, rs := e.allowAll(t, first); ok || rs[0].Allowed || !rs[1].Allowed || !rs[2].Allowed {
		t.Fatalf("refused by the first limit: %v %+v", ok, rs)
	}
	if v, x, _ := e.raw(t, "a"); string(v) != string(va) || !x.Equal(xa) {
		t.Fatal("refused requests changed limit a's key")
	}
	if v, x, _ := e.raw(t, "c"); string(v) != string(vc) || !x.Equal(xc) {
		t.Fatal("refused requests changed limit c's key")
	}
	// Two refusing limits: both report their wait.
	d := limit(t, "1/d", 1)
	e.allow(t, "d", d, 1)
	ok, rs := e.allowAll(t, append(cs[:3:3], ratelimit.Charge{Key: "d", Limit: d, Cost: 1}))
	if ok || rs[1].RetryAfter != 30*time.Minute || rs[3].RetryAfter != 24*time.Hour {
		t.Fatalf("two refusing limits: %v %+v", ok, rs)
	}
}

// testAllowAllSequence drives random multi-limit requests through AllowAll
// and through a model on Decide: all charged when all pass, none
// otherwise.
func testAllowAllSequence(t *testing.T, e *env) {
	rng := rand.New(rand.NewPCG(5, 9))
	ls := []ratelimit.Limit{limit(t, "3/m", 3), limit(t, "7/h", 4), limit(t, "20/h", 10)}
	keys := []string{"s/0", "s/1", "s/2"}
	tats := make([]int64, len(ls))
	for i := 0; i < 400; i++ {
		e.clk.Advance(time.Duration(rng.Int64N(int64(40 * time.Second))))
		now := e.clk.Now().UnixNano()
		var cs []ratelimit.Charge
		var idx []int
		for j := range ls {
			if rng.IntN(4) > 0 {
				cs = append(cs, ratelimit.Charge{Key: keys[j], Limit: ls[j], Cost: rng.Int64N(3)})
				idx = append(idx, j)
			}
		}
		want := make([]ratelimit.Result, len(cs))
		pass := true
		for k, c := range cs {
			want[k] = ratelimit.Decide(tats[idx[k]], now, c.Cost, c.Limit)
			pass = pass && want[k].Allowed
		}
		ok, got := e.allowAll(t, cs)
		if ok != pass {
			t.Fatalf("request %d: AllowAll = %v, model %v (%+v)", i, ok, pass, want)
		}
		for k := range cs {
			if pass {
				tats[idx[k]] = want[k].TAT
			}
			// The Results of a refused request are Peeks: identical to
			// the model, RetryAfter and Remaining included. A TAT in
			// the past is an empty bucket whatever its value (a refund
			// restores max(old TAT, time of the charge)).
			got[k].TAT, want[k].TAT = max(got[k].TAT, now), max(want[k].TAT, now)
			wantResult(t, fmt.Sprintf("request %d limit %d", i, idx[k]), got[k], want[k])
		}
	}
}

// testAllowAllConcurrent: goroutines share one limit and each has its own,
// under a frozen clock. (1) The own limits never refuse: exactly the shared
// burst passes. (2) The own limits always refuse: every charge of the
// shared key is refunded, so it ends as it started.
func testAllowAllConcurrent(t *testing.T, e *env) {
	shared := limit(t, "10/h", 500)
	own := limit(t, "10/h", 1000)
	var passed, contended atomic.Int64
	run := func(own ratelimit.Limit, cost int64, stopOnDeny bool) {
		var wg sync.WaitGroup
		for g := 0; g < goroutines; g++ {
			wg.Go(func() {
				cs := []ratelimit.Charge{{Key: "shared", Limit: shared, Cost: 1}, {Key: fmt.Sprint("own/", g), Limit: own, Cost: cost}}
				rs := make([]ratelimit.Result, 2)
				for i := 0; i < 200; i++ {
					ok, err := e.lm.AllowAll(context.Background(), cs, rs)
					if err != nil {
						contended.Add(1)
						continue
					}
					if ok {
						passed.Add(1)
					} else if stopOnDeny && !rs[0].Allowed {
						return
					}
				}
			})
		}
		wg.Wait()
	}
	run(own, 1, true)
	if got := passed.Load(); got != shared.Burst() {
		t.Fatalf("%d requests passed the shared limit of burst %d", got, shared.Burst())
	}
	e.clk.Advance(shared.Tolerance()) // the shared bucket is empty again
	before := e.peek(t, "shared", shared, 0)
	passed.Store(0)
	run(limit(t, "10/h", 1), 2, false) // cost 2 > burst 1: always refused
	if passed.Load() != 0 {
		t.Fatalf("%d requests passed a limit that refuses all", passed.Load())
	}
	if after := e.peek(t, "shared", shared, 0); after.Remaining != before.Remaining {
		t.Fatalf("refunds lost or invented budget: remaining %d before, %d after", before.Remaining, after.Remaining)
	}
	t.Logf("%d errors (contention) retried", contended.Load())
}
