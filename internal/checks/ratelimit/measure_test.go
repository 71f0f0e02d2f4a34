package ratelimit

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	gcra "github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/store/boltstore"
)

// TestMeasureKeys measures the embedded store's cost per active rate-limit
// key, off by default:
//
//	TEMPFAIL_MEASURE=1 go test -run TestMeasureKeys -v ./internal/checks/ratelimit
//
// TEMPFAIL_MEASURE_N sets the number of keys (default 200 000). Keys are
// what the new-clients limit stores: "r\0new-clients\0<IPv4 address>".
func TestMeasureKeys(t *testing.T) {
	if os.Getenv("TEMPFAIL_MEASURE") == "" {
		t.Skip("set TEMPFAIL_MEASURE=1 to measure bytes per rate-limit key")
	}
	n := 200_000
	if v := os.Getenv("TEMPFAIL_MEASURE_N"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	path := filepath.Join(t.TempDir(), "tempfail.db")
	st, err := boltstore.Open(boltstore.Options{Path: path, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	lim, _ := gcra.NewLimit(gcra.Rate{Count: 2, Period: time.Hour}, 2)
	lm := gcra.New(st, gcra.Options{})
	ctx := context.Background()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	payload := 0
	for i := 0; i < n; i++ {
		ip := strconv.Itoa(10+i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ".7"
		key := gcra.Key("new-clients", ip)
		payload += len(key) + 8
		if _, err := lm.Allow(ctx, key, lim, 1); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d keys: key+value payload %.1f B/key; file %.1f B/key; Go heap growth while live (overlay, caches, filter) %.1f B/key",
		n, float64(payload)/float64(n), float64(fi.Size())/float64(n), float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/float64(n))
}
