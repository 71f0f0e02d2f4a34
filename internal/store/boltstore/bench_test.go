package boltstore

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// greylistKey is shaped like a greylisting triplet key, so benchmarks and
// size measurements see realistic key lengths and prefixes. It depends on i
// alone, so a child process can rebuild any key without the whole set.
func greylistKey(i int) string {
	h := splitmix64(uint64(i))
	return fmt.Sprintf("g\x00198.51.%d.0/24\x00user%d@sender%d.example\x00rcpt%d@dest.example",
		h>>56, i, (h>>20)%1000, (h>>8)%100)
}

func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// greylistKeys returns n distinct keys in random order, as they arrive.
func greylistKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = greylistKey(i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(n, func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	return keys
}

// greylistValue is the ~16 bytes a greylist entry holds: first seen and
// a pass count.
var greylistValue = []byte("1735689600:00003")

// benchStore opens a store holding the given keys, all merged into bucket
// kv, so that reads of them go to bbolt.
func benchStore(b *testing.B, keys []string, opt func(*Options)) *Store {
	b.Helper()
	s := testOpen(b, "", opt)
	exp := time.Now().Add(time.Hour)
	for _, k := range keys {
		if err := s.Put(b.Context(), k, greylistValue, exp); err != nil {
			b.Fatal(err)
		}
	}
	waitMerged(b, s)
	return s
}

// BenchmarkPut writes faster than any disk commits random keys, so it
// measures the sustained rate over 100k keys, bound by log commits and
// merges.
func BenchmarkPut(b *testing.B) {
	keys := greylistKeys(100_000)
	s := testOpen(b, "", nil)
	ctx := b.Context()
	exp := time.Now().Add(time.Hour)
	for i := 0; b.Loop(); i++ {
		if err := s.Put(ctx, keys[i%len(keys)], greylistValue, exp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutHot rewrites 1000 hot keys, as counters and recent
// triplets are: the disk keeps up, so this is the in-memory cost with
// background commits running.
func BenchmarkPutHot(b *testing.B) {
	keys := greylistKeys(1000)
	s := testOpen(b, "", nil)
	ctx := b.Context()
	exp := time.Now().Add(time.Hour)
	for i := 0; b.Loop(); i++ {
		if err := s.Put(ctx, keys[i%len(keys)], greylistValue, exp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCAS swaps 1000 hot keys, read from the overlay or bbolt.
func BenchmarkCAS(b *testing.B) {
	keys := greylistKeys(1000)
	s := benchStore(b, keys, nil)
	ctx := b.Context()
	exp := time.Now().Add(time.Hour)
	vals := make([][]byte, len(keys))
	for i := range vals {
		vals[i] = greylistValue
	}
	for i := 0; b.Loop(); i++ {
		j := i % len(keys)
		next := fmt.Appendf(nil, "%016d", i)
		ok, err := s.CompareAndSwap(ctx, keys[j], vals[j], next, exp)
		if err != nil || !ok {
			b.Fatalf("CAS = %v, %v", ok, err)
		}
		vals[j] = next
	}
}

// BenchmarkIncr counts on 1000 hot keys.
func BenchmarkIncr(b *testing.B) {
	keys := greylistKeys(1000)
	s := testOpen(b, "", nil)
	ctx := b.Context()
	exp := time.Now().Add(time.Hour)
	for i := 0; b.Loop(); i++ {
		if _, err := s.Incr(ctx, keys[i%len(keys)], 1, exp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetHot reads keys still in the write-behind overlay.
func BenchmarkGetHot(b *testing.B) {
	keys := greylistKeys(1000)
	s := testOpen(b, "", func(o *Options) { o.FlushInterval = time.Hour; o.MaxPending = 1 << 30 })
	ctx := b.Context()
	exp := time.Now().Add(time.Hour)
	for _, k := range keys {
		if err := s.Put(ctx, k, greylistValue, exp); err != nil {
			b.Fatal(err)
		}
	}
	for i := 0; b.Loop(); i++ {
		if _, _, err := s.Get(ctx, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetCold reads keys committed to bbolt, in random order over
// 100k keys (the file is in the page cache; "cold" means not in memory of
// the store).
func BenchmarkGetCold(b *testing.B) {
	keys := greylistKeys(100_000)
	s := benchStore(b, keys, nil)
	ctx := b.Context()
	for i := 0; b.Loop(); i++ {
		if _, _, err := s.Get(ctx, keys[(i*7919)%len(keys)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetMissing is the first sight of a new triplet: overlay miss and
// bbolt miss.
func BenchmarkGetMissing(b *testing.B) {
	s := benchStore(b, greylistKeys(100_000), nil)
	ctx := b.Context()
	for i := 0; b.Loop(); i++ {
		if _, _, err := s.Get(ctx, "g\x00missing"+fmt.Sprint(i%1000)); err == nil {
			b.Fatal("found")
		}
	}
}

// BenchmarkParallelMixed is a policy server's mix over 100k keys: mostly
// reads, some writes, counters and CAS from all cores.
func BenchmarkParallelMixed(b *testing.B) {
	keys := greylistKeys(100_000)
	s := benchStore(b, keys, nil)
	exp := time.Now().Add(time.Hour)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := b.Context()
		r := rand.New(rand.NewPCG(rand.Uint64(), 0))
		for pb.Next() {
			k := keys[r.IntN(len(keys))]
			var err error
			switch op := r.IntN(10); {
			case op < 6:
				_, _, err = s.Get(ctx, k)
			case op < 8:
				err = s.Put(ctx, k, greylistValue, exp)
			case op < 9:
				_, err = s.Incr(ctx, "rate\x00"+k[:20], 1, exp)
			default:
				_, err = s.CompareAndSwap(ctx, k, greylistValue, greylistValue, exp)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
