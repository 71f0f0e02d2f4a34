package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tempfail/tempfail/internal/store"
)

// Charge is one limit a request must pass, for AllowAll.
type Charge struct {
	Key   string
	Limit Limit
	Cost  int64
}

// RefundTAT is the state of a bucket at tat after giving back cost units
// charged earlier: tat - cost*Interval (never below 0; a TAT in the past is
// an empty bucket either way). Charging c units moved the TAT from
// max(old, now) to max(old, now) + c*T, so without other charges in
// between the refund restores a state equivalent to the old one exactly;
// charges by other requests in between stay counted.
func RefundTAT(tat, cost int64, l Limit) int64 {
	cost = min(max(cost, 0), l.burst)
	back := cost * l.interval // <= Tolerance: no overflow
	if tat < back {
		return 0
	}
	return tat - back
}

// AllowAll charges a request to several limits, all or nothing: every
// charge is made if every limit allows it, and none when one refuses, so a
// refused message is not counted by the limits it passed (its retry
// will be). It returns whether the request passed; rs (at least len(cs)
// long) receives each limit's Result: what Allow returned when it passed,
// otherwise what a Peek would say now, the refusing limits' RetryAfter
// included, so that a reply can quote the longest wait. On an error
// nothing is known to be charged; charges already made are given back on
// a best-effort basis.
//
// Store operations for n limits, when all pass: n with a store that
// implements store.Updater (the embedded and in-memory stores) or Atomic
// (one round trip each), 2n with Get + CompareAndSwap (a Get of every
// key, then one CompareAndSwap per key that changes).
//
// How it stays all or nothing: with Updater or Atomic, each limit is
// charged in turn, in one locked step each; when one refuses, the limits
// charged before it get their charge back (RefundTAT, another locked step
// each) and the rest are peeked. Between a charge and its refund, some
// microseconds, a concurrent request on the same key sees the charge and
// may be refused by it: the error is only ever on the strict side (nothing
// passes that GCRA would refuse; a refund never gives back more than the
// request took). The alternative, locking every key of a request at once,
// has no equivalent on Redis Cluster, where the keys of different limits
// live on different shards. With Get + CompareAndSwap, every key is read
// and decided first, so a refusal costs n reads and writes nothing; a
// CompareAndSwap that loses a race retries that key, and if it then
// refuses, the earlier ones are refunded the same way.
func (lm *Limiter) AllowAll(ctx context.Context, cs []Charge, rs []Result) (bool, error) {
	if len(rs) < len(cs) {
		return false, fmt.Errorf("ratelimit: AllowAll: %d results for %d charges", len(rs), len(cs))
	}
	for _, c := range cs {
		if c.Cost < 0 {
			return false, fmt.Errorf("%w: %d for %q", ErrNegativeCost, c.Cost, c.Key)
		}
	}
	if lm.atomic == nil && lm.upd == nil && len(cs) > 1 {
		return lm.allowAllCAS(ctx, cs, rs)
	}
	now := lm.o.Now()
	for i, c := range cs {
		r, err := lm.stepAt(ctx, c.Key, c.Limit, c.Cost, false, now)
		if err != nil {
			lm.refundQuietly(ctx, cs[:i])
			return false, err
		}
		rs[i] = r
		if !r.Allowed {
			return false, lm.undo(ctx, cs, rs, i)
		}
	}
	return true, nil
}

// allowAllCAS is AllowAll over Get + CompareAndSwap.
func (lm *Limiter) allowAllCAS(ctx context.Context, cs []Charge, rs []Result) (bool, error) {
	var oldBuf [8][]byte
	var tatBuf [8]int64
	olds, tats := oldBuf[:0], tatBuf[:0]
	if len(cs) > len(oldBuf) {
		olds, tats = make([][]byte, 0, len(cs)), make([]int64, 0, len(cs))
	}
	now := lm.o.Now().UnixNano()
	passed := true
	for i, c := range cs {
		old, _, err := lm.st.Get(ctx, c.Key)
		var tat int64
		switch {
		case errors.Is(err, store.ErrNotFound):
			old = nil
		case err != nil:
			return false, fmt.Errorf("ratelimit: read %q: %w", c.Key, err)
		default:
			tat, _ = DecodeTAT(old)
		}
		olds, tats = append(olds, old), append(tats, tat)
		rs[i] = Decide(tat, now, c.Cost, c.Limit)
		passed = passed && rs[i].Allowed
	}
	if !passed {
		return false, nil
	}
	for i, c := range cs {
		if rs[i].TAT == tats[i] {
			continue
		}
		ok, err := lm.st.CompareAndSwap(ctx, c.Key, olds[i], EncodeTAT(rs[i].TAT), time.Unix(0, rs[i].TAT).Add(lm.o.Slack))
		if err == nil && !ok {
			// Another request changed the key since the read: decide
			// it again on the new state.
			rs[i], err = lm.step(ctx, c.Key, c.Limit, c.Cost, false)
		}
		if err != nil {
			lm.refundQuietly(ctx, cs[:i])
			return false, fmt.Errorf("ratelimit: write %q: %w", c.Key, err)
		}
		if !rs[i].Allowed {
			return false, lm.undo(ctx, cs, rs, i)
		}
	}
	return true, nil
}

// undo handles a refusal by cs[i] after cs[:i] were charged: it refunds
// them and peeks the limits after i, filling rs with peek results.
func (lm *Limiter) undo(ctx context.Context, cs []Charge, rs []Result, i int) error {
	for j := range cs[:i] {
		r, err := lm.refund(ctx, cs[j])
		if err != nil {
			lm.refundQuietly(ctx, cs[j+1:i])
			return err
		}
		rs[j] = r
	}
	for j := i + 1; j < len(cs); j++ {
		r, err := lm.step(ctx, cs[j].Key, cs[j].Limit, cs[j].Cost, true)
		if err != nil {
			return err
		}
		rs[j] = r
	}
	return nil
}

func (lm *Limiter) refundQuietly(ctx context.Context, cs []Charge) {
	for _, c := range cs {
		lm.refund(ctx, c) //nolint:errcheck // best effort, after another error
	}
}

// refund gives back c.Cost units charged to c.Key earlier and returns what
// a Peek of c.Cost says afterwards.
func (lm *Limiter) refund(ctx context.Context, c Charge) (Result, error) {
	if lm.atomic != nil {
		r, err := lm.atomic.GCRA(ctx, AtomicCall{Key: c.Key, Now: lm.o.Now(), Cost: c.Cost, Limit: c.Limit, Refund: true, Slack: lm.o.Slack})
		if err != nil {
			return Result{}, fmt.Errorf("ratelimit: refund %q: %w", c.Key, err)
		}
		return r, nil
	}
	if lm.upd != nil {
		var r Result
		err := lm.upd.Update(ctx, c.Key, func(old []byte, found bool) ([]byte, time.Time, bool) {
			tat, _ := DecodeTAT(old)
			nt := tat
			if found {
				nt = RefundTAT(tat, c.Cost, c.Limit)
			}
			r = Decide(nt, lm.o.Now().UnixNano(), c.Cost, c.Limit)
			if nt == tat {
				return nil, time.Time{}, false
			}
			return EncodeTAT(nt), time.Unix(0, nt).Add(lm.o.Slack), true
		})
		if err != nil {
			return Result{}, fmt.Errorf("ratelimit: refund %q: %w", c.Key, err)
		}
		return r, nil
	}
	for try := 0; try < lm.o.MaxTries; try++ {
		old, _, err := lm.st.Get(ctx, c.Key)
		if errors.Is(err, store.ErrNotFound) {
			return Decide(0, lm.o.Now().UnixNano(), c.Cost, c.Limit), nil
		}
		if err != nil {
			return Result{}, fmt.Errorf("ratelimit: refund %q: %w", c.Key, err)
		}
		tat, _ := DecodeTAT(old)
		nt := RefundTAT(tat, c.Cost, c.Limit)
		r := Decide(nt, lm.o.Now().UnixNano(), c.Cost, c.Limit)
		if nt == tat {
			return r, nil
		}
		ok, err := lm.st.CompareAndSwap(ctx, c.Key, old, EncodeTAT(nt), time.Unix(0, nt).Add(lm.o.Slack))
		if err != nil {
			return Result{}, fmt.Errorf("ratelimit: refund %q: %w", c.Key, err)
		}
		if ok {
			return r, nil
		}
	}
	return Result{}, fmt.Errorf("%w: refund of %q changed under %d attempts", ErrContention, c.Key, lm.o.MaxTries)
}
