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

	bolt "go.etcd.io/bbolt"

	gcra "github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/store/boltstore"
)

// TestMeasureKeys measures the embedded store's cost per active rate-limit
// key, off by default:
//
//	TEMPFAIL_MEASURE=1 go test -run TestMeasureKeys -v ./internal/checks/ratelimit
//
// TEMPFAIL_MEASURE_N sets the number of keys (default 200 000). Keys are
// what the new-clients limit stores for IPv4 clients. It reports the Go
// heap twice: while the keys are still in the store's write-behind
// overlay (written, not yet merged into the B+tree: at most about 2 x
// MergeThreshold keys are), and after a restart, when they are only in
// the file (the steady state of keys older than a merge); and the file
// with bbolt's own accounting of it.
func TestMeasureKeys(t *testing.T) {
	if os.Getenv("TEMPFAIL_MEASURE") == "" {
		t.Skip("set TEMPFAIL_MEASURE=1 to measure bytes per rate-limit key")
	}
	n := 200_000
	if v := os.Getenv("TEMPFAIL_MEASURE_N"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	path := filepath.Join(t.TempDir(), "tempfail.db")
	quiet := slog.New(slog.DiscardHandler)
	st, err := boltstore.Open(boltstore.Options{Path: path, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	lim, _ := gcra.NewLimit(gcra.Rate{Count: 2, Period: time.Hour}, 2)
	// As the daemon runs it: buckets in memory (gcra.Local), written
	// behind to the store; here only on Close, so the heap is measured
	// first with the buckets in memory only.
	loc := gcra.NewLocal(st, gcra.LocalOptions{FlushEvery: time.Hour, Logger: quiet})
	lm := gcra.New(loc, gcra.Options{})
	ks := gcra.NewKeySpace("new-clients")
	ctx := context.Background()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	payload := 0
	for i := 0; i < n; i++ {
		ip := strconv.Itoa(10+i>>16&255) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255) + ".7"
		key := ks.Key(ip)
		payload += len(key) + 8
		if _, err := lm.Allow(ctx, key, lim, 1); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	t.Logf("Go heap growth with %d buckets in memory (gcra.Local), all changed and none written yet (with the list of changed keys): %.1f B per key",
		loc.Len(), float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/float64(n))
	if err := loc.Close(); err != nil { // writes every bucket to the store
		t.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	s := st.Stats()
	inMem := s.Pending + s.Logged
	t.Logf("%d keys: key+value payload %.1f B/key", n, float64(payload)/float64(n))
	t.Logf("... and once written to the store, %d keys not yet merged (overlay, caches, key filter): %.1f B per key written",
		inMem, float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/float64(n))
	if err := st.Close(); err != nil { // merges the log into the B+tree
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("file on disk: %.1f B/key", float64(fi.Size())/float64(n))
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		bs := tx.Bucket([]byte("kv")).Stats()
		t.Logf("bbolt: %d keys; leaf pages %.1f B/key allocated, %.0f%% used; branch %.1f B/key; high-water mark %.1f B/key; %d free pages (%.1f B/key)",
			bs.KeyN, float64(bs.LeafAlloc)/float64(n), 100*float64(bs.LeafInuse)/float64(bs.LeafAlloc),
			float64(bs.BranchAlloc)/float64(n), float64(tx.Size())/float64(n),
			db.Stats().FreePageN, float64(db.Stats().FreePageN*db.Info().PageSize)/float64(n))
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	// After a restart: the keys are in the file only.
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	st, err = boltstore.Open(boltstore.Options{Path: path, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	time.Sleep(time.Second) // the key filter is built in the background
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	t.Logf("Go heap of the open store once merged (key filter, at least 1 Mi keys' worth): %.1f B/key",
		float64(int64(ms1.HeapAlloc)-int64(ms0.HeapAlloc))/float64(n))
}
