package ratelimit_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/ratelimit/ratelimittest"
	"github.com/tempfail/tempfail/internal/store"
	"github.com/tempfail/tempfail/internal/store/boltstore"
	"github.com/tempfail/tempfail/internal/store/memstore"
)

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

func openBolt(t testing.TB) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(boltstore.Options{Path: filepath.Join(t.TempDir(), "tempfail.db"), Logger: quietLog})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLimiterMemstore(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
}

func TestLimiterBoltstore(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) store.Store { return openBolt(t) })
}

// atomicStore is a stand-in for a Redis store with a GCRA script: it runs
// Decide under its own lock and counts calls, to show the Limiter takes
// the one-round-trip path when a store offers it.
type atomicStore struct {
	*memstore.Store
	mu    sync.Mutex
	calls int
}

func (s *atomicStore) GCRA(ctx context.Context, c ratelimit.AtomicCall) (ratelimit.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	v, _, err := s.Get(ctx, c.Key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return ratelimit.Result{}, err
	}
	tat, _ := ratelimit.DecodeTAT(v)
	r := ratelimit.Decide(tat, c.Now.UnixNano(), c.Cost, c.Limit)
	if !c.Peek && r.TAT != tat {
		if err := s.Put(ctx, c.Key, ratelimit.EncodeTAT(r.TAT), time.Unix(0, r.TAT).Add(c.Slack)); err != nil {
			return ratelimit.Result{}, err
		}
	}
	return r, nil
}

func TestLimiterAtomic(t *testing.T) {
	var stores []*atomicStore
	ratelimittest.Run(t, func(t *testing.T) store.Store {
		s := &atomicStore{Store: memstore.New()}
		stores = append(stores, s)
		return s
	})
	calls := 0
	for _, s := range stores {
		calls += s.calls
	}
	if calls < 1000 {
		t.Fatalf("the Limiter called the store's GCRA %d times", calls)
	}
}

// casLoser is a store whose CompareAndSwap always loses the race.
type casLoser struct{ *memstore.Store }

func (casLoser) CompareAndSwap(context.Context, string, []byte, []byte, time.Time) (bool, error) {
	return false, nil
}

func TestLimiterContention(t *testing.T) {
	l, _ := ratelimit.NewLimit(ratelimit.Rate{Count: 2, Period: time.Hour}, 2)
	for _, tries := range []int{0, 1, 5} {
		lm := ratelimit.New(casLoser{memstore.New()}, ratelimit.Options{MaxTries: tries})
		_, err := lm.Allow(t.Context(), "k", l, 1)
		want := tries
		if want == 0 {
			want = ratelimit.DefaultMaxTries
		}
		if !errors.Is(err, ratelimit.ErrContention) || !strings.Contains(err.Error(), "under "+itoa(want)+" attempts") {
			t.Errorf("MaxTries %d: %v, want ErrContention after %d attempts", tries, err, want)
		}
		// Nothing to write: no contention possible.
		if _, err := lm.Peek(t.Context(), "k", l, 1); err != nil {
			t.Errorf("Peek: %v", err)
		}
	}
}

func itoa(n int) string { return string(store.AppendCounter(nil, int64(n))) }

func TestKey(t *testing.T) {
	if k := ratelimit.Key("new_clients", "192.0.2.1"); k != "r\x00new_clients\x00192.0.2.1" {
		t.Errorf("Key = %q", k)
	}
	long := strings.Repeat("a", 5000)
	k := ratelimit.Key("l", long)
	if len(k) != len("r\x00l\x00")+1024 || store.CheckKey(k) != nil {
		t.Errorf("Key with a 5000-byte subject is %d bytes", len(k))
	}
}

func TestEncodeTAT(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 1735689600e9, 1<<63 - 1, -1 << 63} {
		b := ratelimit.EncodeTAT(v)
		if got, ok := ratelimit.DecodeTAT(b); !ok || got != v || len(b) != 8 {
			t.Errorf("EncodeTAT(%d) = %x, decodes to %d, %v", v, b, got, ok)
		}
	}
	for _, b := range [][]byte{nil, {}, make([]byte, 7), make([]byte, 9)} {
		if _, ok := ratelimit.DecodeTAT(b); ok {
			t.Errorf("DecodeTAT(%x) accepted", b)
		}
	}
}
