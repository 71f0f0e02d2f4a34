// Command fillstore writes N greylisting entries into a tempfail data
// directory, the way `tempfail serve` stores them, so that bench/run can
// measure bytes on disk per entry, start-up time and RSS with a large store.
//
//	go run ./bench/fillstore -dir /tmp/tfdata -n 1000000
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/tempfail/tempfail/internal/daemon"
	"github.com/tempfail/tempfail/internal/store/boltstore"
)

func main() {
	dir := flag.String("dir", "", "data directory (created)")
	n := flag.Int("n", 1_000_000, "entries")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "fillstore: -dir is required")
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o750); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	path := filepath.Join(*dir, daemon.DBFile)
	st, err := boltstore.Open(boltstore.Options{Path: path, MaxPending: 20000, FlushInterval: time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	now := time.Now()
	start := now
	const workers = 4
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(w)))
			val := make([]byte, 16)
			for i := w; i < *n; i += workers {
				// The greylist check's key and value layout (triplet: first
				// seen, last pass); a third of the entries have passed.
				key := fmt.Sprintf("g\x00%d.%d.%d.0/24\x00user%d@sender%d.example\x00rcpt%d@dest.example",
					10+r.Intn(200), r.Intn(256), r.Intn(256), r.Intn(1_000_000), r.Intn(100_000), r.Intn(5000))
				first := now.Add(-time.Duration(r.Intn(48*3600)) * time.Second).Unix()
				var passed int64
				exp := time.Unix(first, 0).Add(48 * time.Hour)
				if i%3 == 0 {
					passed = first + 400
					exp = time.Unix(passed, 0).Add(35 * 24 * time.Hour)
				}
				binary.BigEndian.PutUint64(val, uint64(first))
				binary.BigEndian.PutUint64(val[8:], uint64(passed))
				if err := st.Put(context.Background(), key, val, exp); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(1)
				}
			}
		}(w)
	}
	wg.Wait()
	if err := st.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fi, err := os.Stat(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("entries=%d file_bytes=%d bytes_per_entry=%.0f fill_time=%s\n",
		*n, fi.Size(), float64(fi.Size())/float64(*n), time.Since(start).Round(time.Millisecond))
}
