package ratelimit_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/ratelimit/ratelimittest"
	"github.com/tempfail/tempfail/internal/store"
	"github.com/tempfail/tempfail/internal/store/memstore"
)

// ownedLocal closes the store under a Local too, as the suite expects of
// the store it is given.
type ownedLocal struct {
	*ratelimit.Local
	under store.Store
}

func (o ownedLocal) Close() error {
	err := o.Local.Close()
	if cerr := o.under.Close(); err == nil {
		err = cerr
	}
	return err
}

func TestLimiterLocalMemstore(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) store.Store {
		st := memstore.New()
		return ownedLocal{ratelimit.NewLocal(st, ratelimit.LocalOptions{Slack: 2 * time.Second, Logger: quietLog}), st}
	})
}

func TestLimiterLocalBoltstore(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) store.Store {
		st := openBolt(t)
		return ownedLocal{ratelimit.NewLocal(st, ratelimit.LocalOptions{Slack: 2 * time.Second, Logger: quietLog}), st}
	})
}

// countingStore counts the writes that reach the store.
type countingStore struct {
	store.Store
	puts int
}

func (c *countingStore) Put(ctx context.Context, k string, v []byte, exp time.Time) error {
	c.puts++
	return c.Store.Put(ctx, k, v, exp)
}

func (c *countingStore) CompareAndSwap(ctx context.Context, k string, old, new []byte, exp time.Time) (bool, error) {
	c.puts++
	return c.Store.CompareAndSwap(ctx, k, old, new, exp)
}

func mustLimit(t *testing.T, rate string, burst int64) ratelimit.Limit {
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

// The point of Local: a thousand charges of one key reach the store as one
// write, and a new Local over the same store (a restart) carries on from
// the written state.
func TestLocalWritesBehindAndRestarts(t *testing.T) {
	ctx := context.Background()
	clk := ratelimittest.NewClock(time.Now())
	under := &countingStore{Store: memstore.New()}
	loc := ratelimit.NewLocal(under, ratelimit.LocalOptions{Now: clk.Now, FlushEvery: time.Hour, Logger: quietLog})
	lm := ratelimit.New(loc, ratelimit.Options{Now: clk.Now})
	l := mustLimit(t, "1000/h", 1000)
	for i := range 1000 {
		if r, err := lm.Allow(ctx, "k", l, 1); err != nil || !r.Allowed {
			t.Fatalf("charge %d: %+v, %v", i, r, err)
		}
	}
	if under.puts != 0 {
		t.Fatalf("%d writes reached the store before a flush", under.puts)
	}
	if n, err := loc.Flush(ctx); n != 0 || err != nil {
		t.Fatalf("Flush: %d, %v", n, err)
	}
	if under.puts != 1 {
		t.Fatalf("1000 charges of one key cost %d store writes, want 1", under.puts)
	}
	if n, _ := loc.Flush(ctx); n != 0 || under.puts != 1 {
		t.Fatalf("a flush with nothing changed wrote: %d puts", under.puts)
	}
	if err := loc.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := lm.Allow(ctx, "k", l, 1); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("Allow after Close: %v, want store.ErrClosed", err)
	}

	loc2 := ratelimit.NewLocal(under, ratelimit.LocalOptions{Now: clk.Now, Logger: quietLog})
	defer loc2.Close()
	lm2 := ratelimit.New(loc2, ratelimit.Options{Now: clk.Now})
	if r, err := lm2.Allow(ctx, "k", l, 1); err != nil || r.Allowed {
		t.Fatalf("after a restart the spent bucket allowed: %+v, %v", r, err)
	}
}

// Close writes what the flusher has not written yet.
func TestLocalCloseWrites(t *testing.T) {
	ctx := context.Background()
	under := memstore.New()
	loc := ratelimit.NewLocal(under, ratelimit.LocalOptions{FlushEvery: time.Hour, Logger: quietLog})
	lm := ratelimit.New(loc, ratelimit.Options{})
	r, err := lm.Allow(ctx, "k", mustLimit(t, "2/h", 2), 1)
	if err != nil || !r.Allowed {
		t.Fatal(r, err)
	}
	if _, _, err := under.Get(ctx, "k"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("written before Close: %v", err)
	}
	if err := loc.Close(); err != nil {
		t.Fatal(err)
	}
	v, _, err := under.Get(ctx, "k")
	if tat, ok := ratelimit.DecodeTAT(v); err != nil || !ok || tat != r.TAT {
		t.Fatalf("after Close the store holds %x (%v), want TAT %d", v, err, r.TAT)
	}
}

// Expired buckets leave memory; a full table sends new keys to the store
// directly, with the same decisions.
func TestLocalSweepAndOverflow(t *testing.T) {
	ctx := context.Background()
	clk := ratelimittest.NewClock(time.Now())
	under := &countingStore{Store: memstore.New()}
	loc := ratelimit.NewLocal(under, ratelimit.LocalOptions{Now: clk.Now, FlushEvery: time.Hour, MaxKeys: 64, Logger: quietLog})
	defer loc.Close()
	lm := ratelimit.New(loc, ratelimit.Options{Now: clk.Now})
	l := mustLimit(t, "2/h", 2)
	keys := make([]string, 200)
	for i := range keys {
		keys[i] = "key" + string(rune('A'+i%26)) + string(rune('a'+i/26))
		if r, err := lm.Allow(ctx, keys[i], l, 2); err != nil || !r.Allowed {
			t.Fatalf("%s: %+v, %v", keys[i], r, err)
		}
	}
	if n := loc.Len(); n > 64 {
		t.Fatalf("%d buckets in memory, MaxKeys 64", n)
	}
	if under.puts == 0 {
		t.Fatal("no key went to the store directly past MaxKeys")
	}
	for _, k := range keys {
		if r, err := lm.Allow(ctx, k, l, 1); err != nil || r.Allowed {
			t.Fatalf("%s: a spent bucket allowed: %+v, %v", k, r, err)
		}
	}
	clk.Advance(2 * time.Hour)
	if _, err := loc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := loc.Len(); n != 0 {
		t.Fatalf("%d expired buckets still in memory after a sweep", n)
	}
}

// A direct write to a key wins over the bucket in memory.
func TestLocalDirectWritesWin(t *testing.T) {
	ctx := context.Background()
	clk := ratelimittest.NewClock(time.Now())
	loc := ratelimit.NewLocal(memstore.New(), ratelimit.LocalOptions{Now: clk.Now, FlushEvery: time.Hour, Logger: quietLog})
	defer loc.Close()
	lm := ratelimit.New(loc, ratelimit.Options{Now: clk.Now})
	l := mustLimit(t, "2/h", 2)
	if _, err := lm.Allow(ctx, "k", l, 2); err != nil {
		t.Fatal(err)
	}
	if err := loc.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := loc.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := lm.Allow(ctx, "k", l, 2); err != nil || !r.Allowed {
		t.Fatalf("after Delete: %+v, %v, want a fresh bucket", r, err)
	}
	v, _, err := loc.Get(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := loc.CompareAndSwap(ctx, "k", v, ratelimit.EncodeTAT(0), clk.Now().Add(time.Hour)); !ok || err != nil {
		t.Fatalf("CompareAndSwap with the value Get returned: %v, %v", ok, err)
	}
}

// failingPuts fails every Put while down is set, as a full disk would.
type failingPuts struct {
	store.Store
	down bool
}

func (f *failingPuts) Put(ctx context.Context, k string, v []byte, exp time.Time) error {
	if f.down {
		return errors.New("no space left on device")
	}
	return f.Store.Put(ctx, k, v, exp)
}

// A failing store loses nothing: the buckets stay changed in memory, the
// steps go on, and the next flush after the store recovers writes them.
func TestLocalFlushFailureKeepsBuckets(t *testing.T) {
	ctx := context.Background()
	under := &failingPuts{Store: memstore.New(), down: true}
	loc := ratelimit.NewLocal(under, ratelimit.LocalOptions{FlushEvery: time.Hour, Logger: quietLog})
	defer loc.Close()
	lm := ratelimit.New(loc, ratelimit.Options{})
	l := mustLimit(t, "2/h", 2)
	if r, err := lm.Allow(ctx, "k", l, 2); err != nil || !r.Allowed {
		t.Fatal(r, err)
	}
	if n, err := loc.Flush(ctx); n != 1 || err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Flush on a failing store: %d, %v; want 1 bucket not written and the cause", n, err)
	}
	if r, err := lm.Allow(ctx, "k", l, 1); err != nil || r.Allowed {
		t.Fatalf("after a failed flush the bucket was lost: %+v, %v", r, err)
	}
	under.down = false
	if n, err := loc.Flush(ctx); n != 0 || err != nil {
		t.Fatalf("Flush after recovery: %d, %v", n, err)
	}
	if _, _, err := under.Store.Get(ctx, "k"); err != nil {
		t.Fatalf("the bucket did not reach the recovered store: %v", err)
	}
}

// blockingPuts holds every Put until release is closed, as a store waiting
// for a merge would.
type blockingPuts struct {
	store.Store
	entered chan struct{}
	release chan struct{}
}

func (b *blockingPuts) Put(ctx context.Context, k string, v []byte, exp time.Time) error {
	select {
	case b.entered <- struct{}{}:
	default:
	}
	<-b.release
	return b.Store.Put(ctx, k, v, exp)
}

// A slow store write never holds up a charge: the flush writes without the
// bucket's lock.
func TestLocalFlushDoesNotBlockCharges(t *testing.T) {
	ctx := context.Background()
	under := &blockingPuts{Store: memstore.New(), entered: make(chan struct{}, 1), release: make(chan struct{})}
	loc := ratelimit.NewLocal(under, ratelimit.LocalOptions{FlushEvery: time.Hour, Logger: quietLog})
	lm := ratelimit.New(loc, ratelimit.Options{})
	l := mustLimit(t, "100/h", 100)
	if _, err := lm.Allow(ctx, "k", l, 1); err != nil {
		t.Fatal(err)
	}
	flushed := make(chan error, 1)
	go func() { _, err := loc.Flush(ctx); flushed <- err }()
	<-under.entered // the flush is inside the store's Put
	charged := make(chan error, 1)
	go func() { _, err := lm.Allow(ctx, "k", l, 1); charged <- err }()
	select {
	case err := <-charged:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a charge waited for the store write of its bucket")
	}
	close(under.release)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	if err := loc.Close(); err != nil {
		t.Fatal(err)
	}
}
