package boltstore

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// crashEnv switches the test binary into the writer that TestCrash kills.
const crashEnv = "TEMPFAIL_BOLTSTORE_CRASH_DB"

const (
	crashWriters    = 8
	crashProgressN  = 32 // report every this many writes per writer
	crashRunFor     = time.Second
	crashBaseMargin = 500 * time.Millisecond
	// The child merges every few thousand logged entries, in transactions
	// of a few hundred, so that merges run all the time and the kill can
	// land in the middle of one.
	crashMergeThreshold = 3000
	crashMergeChunk     = 300
)

// TestCrash runs a writer in a child process, kill -9s it mid-load and
// mid-merge, and checks that the file opens cleanly and holds every write
// acknowledged longer ago than the documented loss window, whether it was
// in the log, half merged or in kv.
func TestCrash(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("running as the crash child")
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	log := &crashLog{ready: make(chan struct{})}
	var readDone sync.WaitGroup
	readDone.Go(func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			log.add(sc.Text())
		}
	})
	select {
	case <-log.ready:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("child never became ready")
	}
	// Run for crashRunFor, longer if the machine is so loaded that slow
	// commits put no writes safely behind the loss window yet.
	time.Sleep(crashRunFor)
	// On a loaded machine the first merge may come late: the test is only
	// worth something once at least one has completed.
	for deadline := time.Now().Add(45 * time.Second); !(log.settled(time.Now()) && log.merged()) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	// Kill right after a merge transaction that did not end its merge:
	// kv then holds part of a snapshot whose log records are all still
	// there.
	midMerge := false
	select {
	case <-log.nextMidMerge():
		midMerge = true
	case <-time.After(5 * time.Second):
	}
	killedAt := time.Now()
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred Close, no final flush
		t.Fatal(err)
	}
	cmd.Wait()
	readDone.Wait()

	margin := log.margin(killedAt)
	cutoff := killedAt.Add(-margin).UnixNano()
	t.Logf("child acked %d progress marks, completed %d merges in %d transactions (killed mid-merge: %v); longest commit %v; checking writes acked before kill-%v",
		log.marks, log.merges, log.mergeTxns, midMerge, log.maxCommit, margin)
	if log.merges == 0 {
		t.Fatal("the child never completed a merge: the test checks nothing about merges")
	}

	checkIntegrity(t, path)
	s := testOpen(t, filepath.Dir(path), func(o *Options) { o.Path = path; o.MergeThreshold = crashMergeThreshold })
	// Replay holds what was not merged: at most the cap and one batch,
	// even after a kill in the middle of a merge.
	st := s.Stats()
	t.Logf("after reopen: %+v", st)
	if limit := logCapFactor*crashMergeThreshold + 2000; st.Logged > limit {
		t.Errorf("replayed %d entries, want at most %d", st.Logged, limit)
	}
	ctx := t.Context()
	checked := 0
	for w := range crashWriters {
		// last is the highest write of w acknowledged before the cutoff.
		last := -1
		for _, a := range log.acked[w] {
			if a.at <= cutoff {
				last = a.seq
			}
		}
		if last < 0 {
			t.Fatalf("writer %d acknowledged nothing before the cutoff; machine too slow?", w)
		}
		for i := 0; i <= last; i++ {
			key := fmt.Sprintf("w%02d/%08d", w, i)
			got, _, err := s.Get(ctx, key)
			if err != nil {
				t.Fatalf("%s, acked before the cutoff: %v", key, err)
			}
			if !strings.HasPrefix(string(got), fmt.Sprintf("%d %d ", w, i)) {
				t.Fatalf("%s = %q, wrong value", key, got)
			}
			checked++
		}
		ctr, _, err := s.Get(ctx, fmt.Sprintf("ctr%02d", w))
		if n, _ := strconv.Atoi(string(ctr)); err != nil || n < last+1 {
			t.Fatalf("writer %d counter = %q, %v; want >= %d", w, ctr, err, last+1)
		}
	}
	t.Logf("verified %d keys", checked)
	// Merging the replayed log over the half-merged snapshot must keep
	// the file consistent and every key readable.
	waitMerged(t, s)
	for w := range crashWriters {
		if _, _, err := s.Get(ctx, fmt.Sprintf("w%02d/%08d", w, 0)); err != nil {
			t.Fatalf("writer %d's first key after merging the replayed log: %v", w, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkIntegrity(t, path)
}

type crashAck struct {
	seq int
	at  int64
}

// crashLog collects the child's "P writer seq ackedAtNanos" progress marks,
// "F endNanos durationNanos" commit reports (log commits and merge
// transactions alike: both delay the next log commit) and "M last" merge
// transaction reports.
type crashLog struct {
	ready chan struct{}

	mu         sync.Mutex
	acked      [crashWriters][]crashAck
	marks      int
	maxCommit  time.Duration
	lastCommit int64 // end of the last commit reported
	merges     int   // completed merges
	mergeTxns  int
	midMerge   chan struct{} // closed at the next "M 0" line, if set
}

// nextMidMerge returns a channel closed when the child next reports a
// merge transaction that left its merge unfinished.
func (l *crashLog) nextMidMerge() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.midMerge = make(chan struct{})
	return l.midMerge
}

func (l *crashLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := strings.Fields(line)
	switch {
	case line == "READY":
		close(l.ready)
	case len(f) == 4 && f[0] == "P":
		w, _ := strconv.Atoi(f[1])
		seq, _ := strconv.Atoi(f[2])
		at, _ := strconv.ParseInt(f[3], 10, 64)
		l.acked[w] = append(l.acked[w], crashAck{seq, at})
		l.marks++
	case len(f) == 2 && f[0] == "M":
		l.mergeTxns++
		if f[1] == "1" {
			l.merges++
		} else if l.midMerge != nil {
			close(l.midMerge)
			l.midMerge = nil
		}
	case len(f) == 3 && f[0] == "F":
		end, _ := strconv.ParseInt(f[1], 10, 64)
		d, _ := strconv.ParseInt(f[2], 10, 64)
		l.lastCommit = max(l.lastCommit, end)
		l.maxCommit = max(l.maxCommit, time.Duration(d))
	default:
		// A line cut by the kill, or test framework output.
	}
}

// margin is the loss window allowed for a kill at k: 500ms, or the bound
// the package documents if the machine is slow enough to exceed it -
// FlushInterval, plus the commit in progress at the kill (at most the time
// since the last one ended), plus one more commit (at most the longest
// seen), plus slack for scheduling.
func (l *crashLog) margin(k time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	const flushInterval = 100 * time.Millisecond // the default the child uses
	inFlight := k.Sub(time.Unix(0, l.lastCommit))
	if l.lastCommit == 0 {
		inFlight = time.Hour // no commit finished: nothing is promised yet
	}
	return max(crashBaseMargin, flushInterval+inFlight+l.maxCommit+100*time.Millisecond)
}

// merged reports whether the child has completed a merge.
func (l *crashLog) merged() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.merges > 0
}

// settled reports whether killing at now leaves every writer with writes
// older than the margin, so the check has something to check.
func (l *crashLog) settled(now time.Time) bool {
	cutoff := now.Add(-l.margin(now)).UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, acks := range l.acked {
		if len(acks) == 0 || acks[0].at > cutoff {
			return false
		}
	}
	return true
}

// checkIntegrity runs bbolt's own consistency check on the file.
func checkIntegrity(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("bbolt check: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCrashChild is the writer TestCrash kills; it does nothing otherwise.
func TestCrashChild(t *testing.T) {
	path := os.Getenv(crashEnv)
	if path == "" {
		t.Skip("helper process for TestCrash")
	}
	var outMu sync.Mutex
	say := func(format string, args ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	s, err := Open(Options{
		Path:           path,
		Logger:         quietLog,
		MergeThreshold: crashMergeThreshold,
		mergeChunk:     crashMergeChunk,
		OnFlush: func(_ int, d time.Duration, err error) {
			if err == nil {
				say("F %d %d", time.Now().UnixNano(), d.Nanoseconds())
			}
		},
		OnMerge: func(_ int, last bool, d time.Duration, err error) {
			if err == nil {
				say("F %d %d", time.Now().UnixNano(), d.Nanoseconds())
				if last {
					say("M 1")
				} else {
					say("M 0")
				}
			}
		},
	})
	if err != nil {
		say("open: %v", err)
		os.Exit(2)
	}
	ctx := t.Context()
	exp := time.Now().Add(time.Hour)
	for w := range crashWriters {
		go func() {
			for i := 0; ; i++ {
				val := fmt.Sprintf("%d %d %d", w, i, time.Now().UnixNano())
				if err := s.Put(ctx, fmt.Sprintf("w%02d/%08d", w, i), []byte(val), exp); err != nil {
					say("put: %v", err)
					os.Exit(2)
				}
				if _, err := s.Incr(ctx, fmt.Sprintf("ctr%02d", w), 1, exp); err != nil {
					say("incr: %v", err)
					os.Exit(2)
				}
				if i%crashProgressN == 0 {
					say("P %d %d %d", w, i, time.Now().UnixNano())
				}
			}
		}()
	}
	say("READY")
	time.Sleep(30 * time.Second)
	os.Exit(3) // the parent should have killed us long ago
}
