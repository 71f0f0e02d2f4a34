package daemon

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/store"
	"github.com/tempfail/tempfail/internal/store/memstore"
)

// atomicStore is a memstore that also runs GCRA steps itself, as a Redis
// store will.
type atomicStore struct {
	*memstore.Store
	calls int
}

func (a *atomicStore) GCRA(ctx context.Context, c ratelimit.AtomicCall) (ratelimit.Result, error) {
	a.calls++
	return ratelimit.Decide(0, c.Now.UnixNano(), c.Cost, c.Limit), nil
}

// TestInstrumentForwardsAtomic: the metrics wrapper must not hide a
// store's ratelimit.Atomic, nor pretend to have one.
func TestInstrumentForwardsAtomic(t *testing.T) {
	m := newStoreMetrics(prometheus.NewRegistry())
	a := &atomicStore{Store: memstore.New()}
	w := instrument(a, m)
	if _, ok := w.(ratelimit.Atomic); !ok {
		t.Fatal("instrumented store hides ratelimit.Atomic")
	}
	lim, _ := ratelimit.NewLimit(ratelimit.Rate{Count: 2, Period: time.Hour}, 2)
	if _, err := ratelimit.New(w, ratelimit.Options{}).Allow(context.Background(), "k", lim, 1); err != nil {
		t.Fatal(err)
	}
	if a.calls != 1 {
		t.Fatalf("the Limiter did not use the store's GCRA through the wrapper (%d calls)", a.calls)
	}
	if _, ok := instrument(memstore.New(), m).(ratelimit.Atomic); ok {
		t.Fatal("wrapper of a plain store claims ratelimit.Atomic")
	}
	if _, ok := w.(store.Updater); !ok {
		t.Fatal("instrumented store hides the memstore's store.Updater")
	}
	if _, ok := instrument(plain{memstore.New()}, m).(store.Updater); ok {
		t.Fatal("wrapper of a store without Update claims store.Updater")
	}
}

// plain hides the memstore's optional interfaces.
type plain struct{ store.Store }

// TestInstrumentForwardsUpdater: the embedded store's locked
// read-modify-write reaches the Limiter through the wrapper.
func TestInstrumentForwardsUpdater(t *testing.T) {
	m := newStoreMetrics(prometheus.NewRegistry())
	w := instrument(memstore.New(), m)
	u, ok := w.(store.Updater)
	if !ok {
		t.Fatal("instrumented store hides store.Updater")
	}
	err := u.Update(context.Background(), "k", func(old []byte, found bool) ([]byte, time.Time, bool) {
		return []byte("v"), time.Now().Add(time.Hour), true
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, err := w.Get(context.Background(), "k"); err != nil || string(v) != "v" {
		t.Fatalf("Get after Update = %q, %v", v, err)
	}
}
