package memstore_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/store"
	"github.com/tempfail/tempfail/internal/store/memstore"
	"github.com/tempfail/tempfail/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(*testing.T) store.Store { return memstore.New() })
}

// fakeClock is what a check's unit test would use to expire keys.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestFakeClockExpiry(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := memstore.NewWithClock(clock.Now)
	ctx := t.Context()
	if err := s.Put(ctx, "k", []byte("v"), clock.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		advance time.Duration
		wantErr error
	}{
		{59 * time.Second, nil},
		{time.Second, store.ErrNotFound}, // expiry is exclusive: at exp the key is gone
	}
	for _, tc := range tests {
		clock.Advance(tc.advance)
		if _, _, err := s.Get(ctx, "k"); !errors.Is(err, tc.wantErr) {
			t.Fatalf("after +%v: Get err = %v, want %v", tc.advance, err, tc.wantErr)
		}
	}
}

// TestSweepBoundsMemory checks that expired keys nobody reads again do not
// pile up.
func TestSweepBoundsMemory(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := memstore.NewWithClock(clock.Now)
	ctx := t.Context()
	for i := 0; i < 10000; i++ {
		if err := s.Put(ctx, string(store.AppendCounter([]byte("k"), int64(i))), nil, clock.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Millisecond)
	}
	if n := s.Len(); n > 3000 {
		t.Fatalf("Len = %d after writing 10000 keys living 1000 writes each; expired keys not swept", n)
	}
}
