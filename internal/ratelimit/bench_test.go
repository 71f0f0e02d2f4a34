package ratelimit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/store"
	"github.com/tempfail/tempfail/internal/store/memstore"
)

func BenchmarkDecide(b *testing.B) {
	l, _ := ratelimit.NewLimit(ratelimit.Rate{Count: 100, Period: time.Hour}, 100)
	now := time.Now().UnixNano()
	tat := int64(0)
	for i := 0; b.Loop(); i++ {
		r := ratelimit.Decide(tat, now+int64(i)*int64(time.Second), 1, l)
		tat = r.TAT
	}
}

// benchLimiter charges requests spread over 10000 keys (client addresses)
// under a clock moving 1µs per request: each key comes back every 10 ms
// against a limit of 1 per 20 ms, so half the requests pass and write, and
// half are denied and only read.
func benchLimiter(b *testing.B, st store.Store) {
	l, _ := ratelimit.NewLimit(ratelimit.Rate{Count: 1, Period: 20 * time.Millisecond}, 1)
	keys := make([]string, 10000)
	for i := range keys {
		keys[i] = ratelimit.Key("new_clients", fmt.Sprintf("198.51.%d.%d", i/256, i%256))
	}
	now := time.Now()
	lm := ratelimit.New(st, ratelimit.Options{Now: func() time.Time { return now }})
	ctx := b.Context()
	allowed := 0
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		now = now.Add(time.Microsecond)
		r, err := lm.Allow(ctx, keys[i%len(keys)], l, 1)
		if err != nil {
			b.Fatal(err)
		}
		if r.Allowed {
			allowed++
		}
	}
	b.ReportMetric(float64(allowed)/float64(b.N), "allowed/op")
}

func BenchmarkLimiterMemstore(b *testing.B) { benchLimiter(b, memstore.New()) }

func BenchmarkLimiterBoltstore(b *testing.B) {
	s := openBolt(b)
	defer s.Close()
	benchLimiter(b, s)
}

// BenchmarkLimiterMemstoreParallel measures one hot key under contention.
func BenchmarkLimiterMemstoreParallel(b *testing.B) {
	l, _ := ratelimit.NewLimit(ratelimit.Rate{Count: 1000000, Period: time.Second}, 1000)
	lm := ratelimit.New(memstore.New(), ratelimit.Options{})
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := lm.Allow(b.Context(), "hot", l, 1); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
