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
		t.Errorf("wrong victim: %v", c.idx)
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
		t.Errorf("live entry evicted instead of the expired one: %v", c.idx)
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
	if c.len() != 100 || len(c.slots) != 100 {
		t.Errorf("len %d, slots %d", c.len(), len(c.slots))
	}
	for k, i := range c.idx {
		if c.slots[i].k != k {
			t.Fatalf("index corrupt at %v", k)
		}
	}
}
