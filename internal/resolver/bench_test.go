package resolver

import (
	"context"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

// BenchmarkCacheHit measures a lookup answered from the cache: what every
// DNS fact costs once warm.
func BenchmarkCacheHit(b *testing.B) {
	srv := dnstest.Start(b, testZone)
	r, _ := newTest(b, Config{Now: time.Now}, srv)
	ctx := context.Background()
	if res, _ := r.LookupMX(ctx, "example.test"); res.Status != Found {
		b.Fatal(res)
	}
	b.ReportAllocs()
	for b.Loop() {
		if res, _ := r.LookupMX(ctx, "example.test"); !res.Cached {
			b.Fatal("miss")
		}
	}
}

func BenchmarkCacheHitParallel(b *testing.B) {
	srv := dnstest.Start(b, testZone)
	r, _ := newTest(b, Config{Now: time.Now}, srv)
	ctx := context.Background()
	names := []string{"example.test", "mx1.example.test", "mx2.example.test", "v4only.example.test"}
	for _, n := range names {
		r.LookupA(ctx, n)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if res, _ := r.LookupA(ctx, names[i%len(names)]); !res.Cached {
				b.Error("miss")
				return
			}
			i++
		}
	})
}

// BenchmarkLookupIPCached covers LookupIP, which runs A and AAAA in parallel.
func BenchmarkLookupIPCached(b *testing.B) {
	srv := dnstest.Start(b, testZone)
	r, _ := newTest(b, Config{Now: time.Now}, srv)
	ctx := context.Background()
	r.LookupIP(ctx, "example.test")
	b.ReportAllocs()
	for b.Loop() {
		if res, _ := r.LookupIP(ctx, "example.test"); !res.Cached {
			b.Fatal("miss")
		}
	}
}

// BenchmarkMiss is a full round trip to the loopback test server (cache
// disabled).
func BenchmarkMiss(b *testing.B) {
	srv := dnstest.Start(b, testZone)
	r, _ := newTest(b, Config{CacheSize: -1, Now: time.Now}, srv)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if res, _ := r.LookupA(ctx, "mx1.example.test"); res.Status != Found {
			b.Fatal(res)
		}
	}
}
