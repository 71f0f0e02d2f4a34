package resolver

import (
	"fmt"
	"testing"
	"time"
)

func TestCacheClock(t *testing.T) {
	now := time.Unix(1e9, 0)
	live := func() *answer { return &answer{status: Found, expires: now.Add(time.Hour)} }
	c := newCache(3)
	k := func(i int) key { return key{fmt.Sprintf("n%d.test", i), 1} }
	for i := 1; i <= 3; i++ {
		if c.put(k(i), live(), now) {
			t.Fatalf("eviction while filling")
		}
	}
	// k1 referenced: the hand skips it once and evicts k2.
	if c.get(k(1), now) == nil {
		t.Fatal("k1 missing")
	}
	if !c.put(k(4), live(), now) {
		t.Fatal("no eviction at capacity")
	}
	if c.get(k(2), now) != nil || c.get(k(1), now) == nil || c.get(k(3), now) == nil || c.get(k(4), now) == nil {
		t.Errorf("wrong victim: %v", c.shards[0].idx)
	}
	// An expired entry is evicted before referenced ones.
	c = newCache(3)
	c.put(k(1), live(), now)
	c.put(k(2), &answer{expires: now.Add(time.Second)}, now)
	c.put(k(3), live(), now)
	for i := 1; i <= 3; i++ {
		c.get(k(i), now)
	}
	later := now.Add(2 * time.Second)
	if c.get(k(2), later) != nil {
		t.Error("expired entry returned")
	}
	c.put(k(4), live(), later)
	if c.get(k(1), later) == nil || c.get(k(3), later) == nil || c.get(k(4), later) == nil {
		t.Errorf("live entry evicted instead of the expired one: %v", c.shards[0].idx)
	}
	// Replacing an entry does not grow the cache.
	c.put(k(4), live(), later)
	if c.len() != 3 {
		t.Errorf("len %d", c.len())
	}
}

func TestCacheManyEntries(t *testing.T) {
	now := time.Unix(1e9, 0)
	c := newCache(100)
	for i := range 10000 {
		c.put(key{fmt.Sprintf("n%d.test", i), 1}, &answer{expires: now.Add(time.Hour)}, now)
		if i%3 == 0 {
			c.get(key{fmt.Sprintf("n%d.test", i/2), 1}, now)
		}
	}
	if c.len() != 100 || len(c.shards[0].slots) != 100 {
		t.Errorf("len %d, slots %d", c.len(), len(c.shards[0].slots))
	}
	for k, i := range c.shards[0].idx {
		if c.shards[0].slots[i].k != k {
			t.Fatalf("index corrupt at %v", k)
		}
	}
}

// A large cache is sharded: it holds its whole capacity of distinct names,
// and a full cache evicts instead of growing.
func TestCacheSharded(t *testing.T) {
	now := time.Unix(1e9, 0)
	const size = 64 * cacheShards * 4
	c := newCache(size)
	if len(c.shards) != cacheShards || c.capacity() < size {
		t.Fatalf("%d shards, capacity %d", len(c.shards), c.capacity())
	}
	k := func(i int) key { return key{fmt.Sprintf("host%d.example", i), 1} }
	for i := 0; i < size/2; i++ {
		c.put(k(i), &answer{status: Found, expires: now.Add(time.Hour)}, now)
	}
	for i := 0; i < size/2; i++ {
		if c.get(k(i), now) == nil {
			t.Fatalf("%v missing from a half-full cache", k(i))
		}
	}
	for i := size / 2; i < 4*size; i++ {
		c.put(k(i), &answer{status: Found, expires: now.Add(time.Hour)}, now)
	}
	if n := c.len(); n > c.capacity() {
		t.Fatalf("%d entries, capacity %d", n, c.capacity())
	}
}

// TestCacheFront: a large cache answers repeated lookups from its front
// table; the front never serves an expired answer or another name's or
// type's, and a new answer put after expiry is the one returned.
func TestCacheFront(t *testing.T) {
	now := time.Unix(1e9, 0)
	c := newCache(100_000)
	if len(c.front) == 0 {
		t.Fatal("no front table for a large cache")
	}
	a := &answer{status: Found, expires: now.Add(time.Minute)}
	k := key{"example.test", 15}
	c.put(k, a, now)
	for range 3 {
		if got := c.get(k, now); got != a {
			t.Fatalf("get = %p, want %p", got, a)
		}
	}
	if c.get(key{"example.test", 16}, now) != nil || c.get(key{"other.test", 15}, now) != nil {
		t.Error("front served another type or name")
	}
	later := now.Add(2 * time.Minute)
	if c.get(k, later) != nil {
		t.Error("front served an expired answer")
	}
	b := &answer{status: NotFound, expires: later.Add(time.Minute)}
	c.put(k, b, later)
	if got := c.get(k, later); got != b {
		t.Errorf("after expiry get = %p, want the new answer %p", got, b)
	}
	// Names that share a front slot take turns; each is still found.
	for i := range 5000 {
		c.put(key{fmt.Sprintf("n%d.test", i), 1}, &answer{expires: now.Add(time.Hour)}, now)
	}
	for i := range 5000 {
		kk := key{fmt.Sprintf("n%d.test", i), 1}
		if got := c.get(kk, now); got == nil || got.k != kk {
			t.Fatalf("%v: got %v", kk, got)
		}
	}
}
