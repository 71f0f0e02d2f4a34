package ratelimit_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/store"
)

// discardStore has no keys and forgets every write: the heap it leaves is
// Local's alone.
type discardStore struct{ store.Store }

func (discardStore) Get(context.Context, string) ([]byte, time.Time, error) {
	return nil, time.Time{}, store.ErrNotFound
}
func (discardStore) Put(context.Context, string, []byte, time.Time) error { return nil }

// TestMeasureLocal measures the Go heap of an active bucket held by Local
// in the steady state (written out, unchanged since), off by default:
//
//	TEMPFAIL_MEASURE=1 go test -run TestMeasureLocal -v ./internal/ratelimit
func TestMeasureLocal(t *testing.T) {
	if os.Getenv("TEMPFAIL_MEASURE") == "" {
		t.Skip("set TEMPFAIL_MEASURE=1 to measure bytes per bucket")
	}
	loc := ratelimit.NewLocal(discardStore{}, ratelimit.LocalOptions{FlushEvery: time.Hour, Logger: quietLog})
	defer loc.Close()
	lm := ratelimit.New(loc, ratelimit.Options{})
	lim, _ := ratelimit.NewLimit(ratelimit.Rate{Count: 2, Period: time.Hour}, 2)
	ks := ratelimit.NewKeySpace("new-clients")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const n = 200_000
	for i := 0; i < n; i++ {
		ip := strconv.Itoa(10+i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ".7"
		if _, err := lm.Allow(context.Background(), ks.Key(ip), lim, 1); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := loc.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%d buckets (IPv4 clients of a new-clients limit) in memory, written out: %.1f B of Go heap per bucket",
		loc.Len(), float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/n)
}
