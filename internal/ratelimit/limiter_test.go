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

// plainStore hides the memstore's store.Updater: the Limiter's Get +
// CompareAndSwap path, as over a store with neither Updater nor Atomic.
type plainStore struct{ store.Store }

func TestLimiterPlainStore(t *testing.T) {
	ratelimittest.Run(t, func(t *testing.T) store.Store { return plainStore{memstore.New()} })
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
	if c.Refund {
		nt := tat
		if err == nil {
			nt = ratelimit.RefundTAT(tat, c.Cost, c.Limit)
		}
		if nt != tat {
			if err := s.Put(ctx, c.Key, ratelimit.EncodeTAT(nt), time.Unix(0, nt).Add(c.Slack)); err != nil {
				return ratelimit.Result{}, err
			}
		}
		return ratelimit.Decide(nt, c.Now.UnixNano(), c.Cost, c.Limit), nil
	}
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

// casLoser is a store whose CompareAndSwap always loses the race (and
// that has no store.Updater).
type casLoser struct{ store.Store }

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
	k := ratelimit.Key("new_clients", "192.0.2.1")
	if len(k) != 1+4+len("192.0.2.1") || k[0] != 'r' || !strings.HasSuffix(k, "192.0.2.1") {
		t.Errorf("Key = %q", k)
	}
	if k != ratelimit.NewKeySpace("new_clients").Key("192.0.2.1") {
		t.Error("Key differs from KeySpace.Key")
	}
	if ratelimit.Key("other", "192.0.2.1") == k {
		t.Error("two limits share a key")
	}
	// Subjects of 16 bytes and more are hashed to 16: a 15-byte subject is
	// kept, so no kept subject looks like a hash.
	for n, want := range map[int]int{15: 15, 16: 16, 17: 16, 5000: 16} {
		subj := strings.Repeat("a", n)
		k := ratelimit.Key("l", subj)
		if len(k) != 5+want || store.CheckKey(k) != nil {
			t.Errorf("Key with a %d-byte subject is %d bytes, want %d", n, len(k), 5+want)
		}
		if n >= 16 && ratelimit.Key("l", subj+"b") == k {
			t.Errorf("two %d-byte subjects share a key", n)
		}
	}
	if ratelimit.SameID("a", "a") || ratelimit.SameID("new-clients", "users") {
		t.Error("SameID")
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

// opCounter counts store operations; it forwards store.Updater only when
// asked to.
type opCounter struct {
	store.Store
	gets, cas, updates int
}

func (s *opCounter) Get(ctx context.Context, key string) ([]byte, time.Time, error) {
	s.gets++
	return s.Store.Get(ctx, key)
}

func (s *opCounter) CompareAndSwap(ctx context.Context, key string, old, new []byte, exp time.Time) (bool, error) {
	s.cas++
	return s.Store.CompareAndSwap(ctx, key, old, new, exp)
}

type opCounterUpdater struct{ *opCounter }

func (s opCounterUpdater) Update(ctx context.Context, key string, fn store.UpdateFunc) error {
	s.updates++
	return s.Store.(store.Updater).Update(ctx, key, fn)
}

// TestAllowAllStoreOps pins the store operations of a request charged to
// three limits: one per limit with store.Updater, a read and a write per
// limit without; a refusal by the first limit costs one operation plus a
// read of each other limit with Updater, and only reads without.
func TestAllowAllStoreOps(t *testing.T) {
	l, _ := ratelimit.NewLimit(ratelimit.Rate{Count: 1, Period: time.Hour}, 1)
	cs := []ratelimit.Charge{{Key: "a", Limit: l, Cost: 1}, {Key: "b", Limit: l, Cost: 1}, {Key: "c", Limit: l, Cost: 1}}
	rs := make([]ratelimit.Result, 3)
	for _, tc := range []struct {
		name               string
		updater            bool
		passOps, refuseOps [3]int // gets, cas, updates
	}{
		{"updater", true, [3]int{0, 0, 3}, [3]int{2, 0, 1}},
		{"get+cas", false, [3]int{3, 3, 0}, [3]int{3, 0, 0}},
	} {
		c := &opCounter{Store: memstore.New()}
		var st store.Store = c
		if tc.updater {
			st = opCounterUpdater{c}
		}
		lm := ratelimit.New(st, ratelimit.Options{})
		for i, want := range [][3]int{tc.passOps, tc.refuseOps} {
			c.gets, c.cas, c.updates = 0, 0, 0
			ok, err := lm.AllowAll(t.Context(), cs, rs)
			if err != nil || ok != (i == 0) {
				t.Fatalf("%s: request %d: %v, %v", tc.name, i, ok, err)
			}
			if got := [3]int{c.gets, c.cas, c.updates}; got != want {
				t.Errorf("%s: request %d: gets, CAS, updates = %v, want %v", tc.name, i, got, want)
			}
		}
	}
}

func TestAppendKeyIsKey(t *testing.T) {
	ks := ratelimit.NewKeySpace("users")
	for _, subj := range []string{"", "a", "192.0.2.1", "exactly16bytes!!", "alice@example.com|198.51.100.0/24"} {
		if got, want := string(ks.AppendKey([]byte("prefix"), subj)), "prefix"+ks.Key(subj); got != want {
			t.Errorf("AppendKey(%q) = %q, want %q", subj, got, want)
		}
	}
}
