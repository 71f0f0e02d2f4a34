package ratelimit

import (
	"fmt"
	"math/big"
	mrand "math/rand"
	"math/rand/v2"
	"testing"
	"testing/quick"
	"time"
)

// refBucket is the reference model: a token bucket holding up to Burst
// tokens, refilled continuously at one token per Interval, with exact
// rational arithmetic. A request of cost n passes if n tokens are there,
// and takes them. GCRA must agree with it on every request, both ways:
// never allow what the bucket refuses, never refuse what it allows.
type refBucket struct {
	burst    *big.Rat
	interval *big.Rat // ns per token
	tokens   *big.Rat
	last     int64
}

func newRef(l Limit) *refBucket {
	return &refBucket{
		burst:    new(big.Rat).SetInt64(l.Burst()),
		interval: new(big.Rat).SetInt64(int64(l.Interval())),
		tokens:   new(big.Rat).SetInt64(l.Burst()), // long idle: full
	}
}

// advance refills the bucket up to now (now never goes back here).
func (b *refBucket) advance(now int64) {
	if now < b.last {
		panic("reference clock went back")
	}
	add := new(big.Rat).SetInt64(now - b.last)
	add.Quo(add, b.interval)
	b.tokens.Add(b.tokens, add)
	if b.tokens.Cmp(b.burst) > 0 {
		b.tokens.Set(b.burst)
	}
	b.last = now
}

// allow returns the decision and, for a refusal, the exact wait until n
// tokens are there (nil if n exceeds the burst).
func (b *refBucket) allow(now, n int64) (ok bool, wait *big.Rat) {
	b.advance(now)
	need := new(big.Rat).SetInt64(n)
	if need.Cmp(b.tokens) <= 0 {
		b.tokens.Sub(b.tokens, need)
		return true, nil
	}
	if need.Cmp(b.burst) > 0 {
		return false, nil
	}
	wait = new(big.Rat).Sub(need, b.tokens)
	return false, wait.Mul(wait, b.interval)
}

// remaining is the whole tokens in the bucket.
func (b *refBucket) remaining() int64 {
	q := new(big.Int).Quo(b.tokens.Num(), b.tokens.Denom())
	return q.Int64()
}

// emptyIn is how long until the bucket is full again ("reset after").
func (b *refBucket) emptyIn() *big.Rat {
	d := new(big.Rat).Sub(b.burst, b.tokens)
	return d.Mul(d, b.interval)
}

type req struct {
	at   int64 // ns since the start of the sequence
	cost int64
}

type passed struct{ at, cost int64 }

// checkSequence runs reqs through Decide and the reference model, fails on
// any disagreement, and then checks the window property on what passed.
func checkSequence(t testing.TB, l Limit, reqs []req) {
	t.Helper()
	ref := newRef(l)
	ref.last = t0 - 1000*int64(l.Tolerance()) // long idle before the start
	tat := int64(0)
	var ok []passed
	for i, q := range reqs {
		now := t0 + q.at
		r := Decide(tat, now, q.cost, l)
		wantOK, wait := ref.allow(now, q.cost)
		where := func() string {
			return fmt.Sprintf("%v, request %d (at +%v, cost %d): Decide = %+v", l, i, time.Duration(q.at), q.cost, r)
		}
		if r.Allowed != wantOK {
			t.Fatalf("%s; reference model says allowed=%v", where(), wantOK)
		}
		if r.Never != (q.cost > l.Burst()) {
			t.Fatalf("%s; Never must be set exactly when cost > burst", where())
		}
		if !r.Allowed && r.TAT != tat {
			t.Fatalf("%s; a denial changed the state from %d", where(), tat)
		}
		if !r.Allowed && !r.Never && (wait == nil || !wait.IsInt() || wait.Num().Int64() != int64(r.RetryAfter)) {
			t.Fatalf("%s; reference wait is %v", where(), wait)
		}
		if got, want := r.Remaining, ref.remaining(); got != want {
			t.Fatalf("%s; reference remaining is %d", where(), want)
		}
		if e := ref.emptyIn(); !e.IsInt() || e.Num().Int64() != int64(r.ResetAfter) {
			t.Fatalf("%s; reference reset after is %v", where(), e)
		}
		tat = r.TAT
		if r.Allowed && q.cost > 0 {
			ok = append(ok, passed{now, q.cost})
		}
	}
	checkWindows(t, l, ok)
}

// checkWindows checks the property: in every closed window of
// length W, the cost that passed is at most Count*W/Period + Burst, for
// several W. Windows starting at each passed request are enough: moving a
// window's start forward to the first request in it only shortens it.
func checkWindows(t testing.TB, l Limit, ok []passed) {
	t.Helper()
	r := l.Rate()
	p := int64(r.Period)
	for _, w := range []int64{0, 1, int64(l.Interval()) - 1, int64(l.Interval()), p / 2, p, 3 * p, 10 * p} {
		if w < 0 {
			continue
		}
		j, sum := 0, int64(0)
		for i := range ok {
			for j < len(ok) && ok[j].at-ok[i].at <= w {
				sum += ok[j].cost
				j++
			}
			// sum*Period <= Count*W + Burst*Period, in big integers.
			lhs := new(big.Int).Mul(big.NewInt(sum), big.NewInt(p))
			rhs := new(big.Int).Mul(big.NewInt(r.Count), big.NewInt(w))
			rhs.Add(rhs, new(big.Int).Mul(big.NewInt(l.Burst()), big.NewInt(p)))
			if lhs.Cmp(rhs) > 0 {
				t.Fatalf("%v: %d units passed in the %v from +%v, more than rate*window+burst",
					l, sum, time.Duration(w), time.Duration(ok[i].at-t0))
			}
			sum -= ok[i].cost
		}
	}
}

var propRates = []string{"1/s", "2/h", "7/h", "3/1.5s", "10/m", "100/d", "1000/d", "5/30s", "13/7s", "1/w"}

// randomLimit picks a rate and a burst.
func randomLimit(t testing.TB, rng *rand.Rand) Limit {
	rate, err := ParseRate(propRates[rng.IntN(len(propRates))])
	if err != nil {
		t.Fatal(err)
	}
	var burst int64
	switch rng.IntN(4) {
	case 0:
		burst = 1
	case 1:
		burst = rate.Count
	case 2:
		burst = 2 * rate.Count
	default:
		burst = 1 + rng.Int64N(3*rate.Count)
	}
	l, err := NewLimit(rate, burst)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// randomSequence mixes bursts, gaps shorter and longer than T, gaps of
// exactly T, waits just past what a full bucket needs, and costs from 0 to
// above the burst.
func randomSequence(rng *rand.Rand, l Limit, n int) []req {
	T, tol := int64(l.Interval()), int64(l.Tolerance())
	reqs := make([]req, n)
	at := int64(0)
	for i := range reqs {
		switch k := rng.IntN(100); {
		case k < 30: // same instant
		case k < 55:
			at += rng.Int64N(T)
		case k < 65:
			at += T
		case k < 72:
			at += T + rng.Int64N(3) - 1
		case k < 82:
			at += rng.Int64N(tol + 1)
		case k < 87:
			at += tol + rng.Int64N(10*tol)
		default:
			at++
		}
		var cost int64
		switch k := rng.IntN(100); {
		case k < 60:
			cost = 1
		case k < 85:
			cost = 1 + rng.Int64N(l.Burst())
		case k < 90:
			cost = l.Burst()
		case k < 95:
			cost = l.Burst() + 1 + rng.Int64N(3)
		default:
			cost = 0
		}
		reqs[i] = req{at, cost}
	}
	return reqs
}

// TestGCRAProperty runs many random sequences under a fake clock, with
// fixed seeds, against the reference model and the window property.
func TestGCRAProperty(t *testing.T) {
	seqs, n := 400, 400
	if testing.Short() {
		seqs = 50
	}
	for seed := uint64(1); seed <= 4; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0x7e3f))
		for range seqs / 4 {
			l := randomLimit(t, rng)
			checkSequence(t, l, randomSequence(rng, l, n))
		}
	}
}

// quickSeq is a random sequence for testing/quick: gaps in units of T/4,
// costs mod burst+2.
type quickSeq struct {
	Rate  uint8
	Burst uint8
	Gaps  []uint16
	Costs []uint8
}

// TestGCRAQuick is the same property driven by testing/quick.
func TestGCRAQuick(t *testing.T) {
	prop := func(s quickSeq) bool {
		rate, _ := ParseRate(propRates[int(s.Rate)%len(propRates)])
		l, err := NewLimit(rate, 1+int64(s.Burst)%(2*rate.Count))
		if err != nil {
			t.Fatal(err)
		}
		reqs := make([]req, min(len(s.Gaps), len(s.Costs)))
		at := int64(0)
		for i := range reqs {
			at += int64(s.Gaps[i]%64) * int64(l.Interval()) / 4
			reqs[i] = req{at, int64(s.Costs[i]) % (l.Burst() + 2)}
		}
		checkSequence(t, l, reqs)
		return !t.Failed()
	}
	cfg := &quick.Config{MaxCount: 300, Rand: mrand.New(mrand.NewSource(5))}
	if err := quick.Check(prop, cfg); err != nil {
		t.Fatal(err)
	}
}

// FuzzGCRASequence is the property as a fuzz target: the input bytes are
// the limit and a sequence of (gap, cost) pairs.
func FuzzGCRASequence(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 0, 1, 0, 1})
	f.Add([]byte{1, 2, 0, 1, 0, 1, 0, 1, 4, 1, 2, 3})
	f.Add([]byte{2, 3, 255, 1, 4, 2, 1, 3, 0, 0, 8, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 2 {
			return
		}
		rate, _ := ParseRate(propRates[int(b[0])%len(propRates)])
		l, err := NewLimit(rate, 1+int64(b[1])%(2*rate.Count))
		if err != nil {
			t.Fatal(err)
		}
		var reqs []req
		at := int64(0)
		for i := 2; i+1 < len(b); i += 2 {
			at += int64(b[i]) * int64(l.Interval()) / 8
			reqs = append(reqs, req{at, int64(b[i+1]) % (l.Burst() + 2)})
		}
		checkSequence(t, l, reqs)
	})
}

// TestIntervalRoundsUp: T is Period/Count rounded up, so GCRA is never
// looser than the configured rate and looser than T by less than 1 ns.
func TestIntervalRoundsUp(t *testing.T) {
	for _, s := range propRates {
		l := mustLimit(t, s, 1)
		r := l.Rate()
		T := int64(l.Interval())
		if T*r.Count < int64(r.Period) || (T-1)*r.Count >= int64(r.Period) {
			t.Errorf("%v: interval %d is not Period/Count rounded up", l, T)
		}
	}
}
