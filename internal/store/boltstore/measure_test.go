package boltstore

import (
	"bufio"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Size and open-time measurement for the greylist workload, off by default
// because writing a million entries takes a while:
//
//	TEMPFAIL_MEASURE=1 go test -run TestMeasureGreylist -v ./internal/store/boltstore
//
// TEMPFAIL_MEASURE_N changes the entry count; TEMPFAIL_MEASURE_DROP_CACHES=1
// (root only) empties the page cache before the open is timed.
const (
	measureEnv     = "TEMPFAIL_MEASURE"
	measureOpenEnv = "TEMPFAIL_MEASURE_OPEN_DB"
)

func TestMeasureGreylist(t *testing.T) {
	if os.Getenv(measureEnv) == "" {
		t.Skip("set " + measureEnv + "=1 to measure a million greylist entries")
	}
	n := 1_000_000
	if v := os.Getenv("TEMPFAIL_MEASURE_N"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "tempfail.db")

	keys := greylistKeys(n)
	var payload int64
	for _, k := range keys {
		payload += int64(len(k) + headerLen + len(greylistValue))
	}
	var commits, merges, mergeTxns int
	var commitTime, mergeTime time.Duration
	s, err := Open(Options{Path: path, Logger: quietLog, OnFlush: func(_ int, d time.Duration, _ error) {
		commits++
		commitTime += d
	}, OnMerge: func(_ int, last bool, d time.Duration, _ error) {
		mergeTxns++
		mergeTime += d
		if last {
			merges++
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	exp := time.Now().Add(30 * 24 * time.Hour)
	start := time.Now()
	for _, k := range keys {
		if err := s.Put(ctx, k, greylistValue, exp); err != nil {
			t.Fatal(err)
		}
	}
	writeTime := time.Since(start)
	// Merged before measuring, so that the file holds the B+tree a
	// long-running server has (Close leaves the log for the next Open).
	waitMerged(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d entries in %v (%.0f/s, %d log commits, %v committing, avg %v; %d merges in %d transactions, %v merging)",
		n, writeTime.Round(time.Millisecond), float64(n)/writeTime.Seconds(), commits, commitTime.Round(time.Millisecond), (commitTime / time.Duration(max(commits, 1))).Round(time.Millisecond),
		merges, mergeTxns, mergeTime.Round(time.Millisecond))
	t.Logf("payload (key + 8 B header + %d B value): %.1f B/entry", len(greylistValue), float64(payload)/float64(n))

	size := fileSize(t, path)
	t.Logf("file: %d bytes = %.1f B/entry", size, float64(size)/float64(n))
	logBoltStats(t, path, n)

	compacted := filepath.Join(dir, "compacted.db")
	compact(t, path, compacted)
	t.Logf("compacted copy (what a rewrite would give): %.1f B/entry", float64(fileSize(t, compacted))/float64(n))

	if os.Getenv("TEMPFAIL_MEASURE_DROP_CACHES") == "1" {
		if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil {
			t.Logf("drop caches: %v (open below is warm)", err)
		} else {
			t.Log("page cache dropped: open below is cold")
		}
	}
	// A fresh process, so its RSS is the store's and not this test's.
	cmd := exec.Command(os.Args[0], "-test.run=^TestMeasureOpenChild$", "-test.v")
	cmd.Env = append(os.Environ(), measureOpenEnv+"="+path, "TEMPFAIL_MEASURE_N="+strconv.Itoa(n))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("open child: %v\n%s", err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, "measure_test.go") {
			t.Log("child: " + l[strings.Index(l, " ")+1:])
		}
	}

	measureSweep(t, path)
}

// TestMeasureOpenChild times Open and first reads of an existing file and
// reports the process's memory; TestMeasureGreylist runs it.
func TestMeasureOpenChild(t *testing.T) {
	path := os.Getenv(measureOpenEnv)
	if path == "" {
		t.Skip("helper process for TestMeasureGreylist")
	}
	n, _ := strconv.Atoi(os.Getenv("TEMPFAIL_MEASURE_N"))
	rssBefore := rssKiB(t)
	start := time.Now()
	s, err := Open(Options{Path: path, Logger: quietLog, SweepInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	openTime := time.Since(start)
	t.Logf("Open: %v; RSS %d KiB before, %d KiB after; Stats().Keys = %d", openTime, rssBefore, rssKiB(t), s.Stats().Keys)

	ctx := t.Context()
	r := rand.New(rand.NewPCG(3, 4))
	const gets = 10000
	start = time.Now()
	for i := range gets {
		if _, _, err := s.Get(ctx, greylistKey(r.IntN(n))); err != nil {
			t.Fatalf("Get #%d: %v", i, err)
		}
		if i == 0 {
			t.Logf("first Get after Open: %v", time.Since(start))
		}
	}
	t.Logf("%d random Gets: %v/Get; RSS after %d KiB", gets, time.Since(start)/gets, rssKiB(t))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// measureSweep times sweeper ticks over the full file.
func measureSweep(t *testing.T, path string) {
	var ticks int
	var total, longest time.Duration
	done := make(chan struct{})
	s, err := Open(Options{Path: path, Logger: quietLog, SweepInterval: time.Millisecond,
		OnSweep: func(scanned, _ int, d time.Duration, _ error) {
			ticks++
			total += d
			longest = max(longest, d)
			if ticks == 200 {
				close(done)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	<-done
	s.Close()
	t.Logf("sweeper: %d ticks of %d keys, avg %v, max %v", ticks, s.opts.SweepBatch, total/time.Duration(ticks), longest)
}

func logBoltStats(t *testing.T, path string, n int) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		t.Logf("bbolt: high-water mark %d bytes = %.1f B/entry (the file grows ahead of it)", tx.Size(), float64(tx.Size())/float64(n))
		bs := tx.Bucket(kvBucket).Stats()
		t.Logf("bbolt: %d keys, depth %d; leaf pages %d (%.1f B/entry allocated, %.0f%% used); branch pages %d (%.1f B/entry)",
			bs.KeyN, bs.Depth, bs.LeafPageN, float64(bs.LeafAlloc)/float64(n), 100*float64(bs.LeafInuse)/float64(bs.LeafAlloc),
			bs.BranchPageN, float64(bs.BranchAlloc)/float64(n))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("bbolt: %d free pages (%d bytes) below the high-water mark", db.Stats().FreePageN, db.Stats().FreePageN*db.Info().PageSize)
}

func compact(t *testing.T, src, dst string) {
	from, err := bolt.Open(src, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer from.Close()
	to, err := bolt.Open(dst, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer to.Close()
	if err := bolt.Compact(to, from, 64<<20); err != nil {
		t.Fatal(err)
	}
}

func fileSize(t *testing.T, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// rssKiB reads the resident set size, mmap'ed file pages included.
func rssKiB(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return -1
}
