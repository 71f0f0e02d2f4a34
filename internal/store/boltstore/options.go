package boltstore

import (
	"log/slog"
	"time"
)

// Options configures Open. Only Path is required.
type Options struct {
	// Path is the database file; it is created if missing.
	Path string

	// FlushInterval is the longest an acknowledged write waits in memory
	// before its commit starts; it bounds what a crash loses. Default 100ms.
	FlushInterval time.Duration

	// MaxPending is the most dirty keys one commit takes: reaching it
	// starts a commit early, and writers then wait for the flusher to take
	// the batch rather than grow it, and with it the commit time and the
	// crash window, without bound. While commits fail they do not wait.
	// Default 2000: a commit appends the batch to the log as one value,
	// about 100 bytes per greylist key, so 2000 keys commit in a few
	// milliseconds, most of it the fsync.
	MaxPending int

	// MergeThreshold is the number of logged entries (committed to the log,
	// not yet in the kv B+tree) at which a merge starts. Bigger merges
	// touch each leaf page of kv for more keys at once, so they cost less
	// per key, but take memory (about 230 bytes per greylist entry) and
	// make Open replay a longer log. Writers wait while 2 x MergeThreshold
	// entries are not merged, so that merges falling behind cannot grow
	// memory and the log without bound. Default 100000.
	MergeThreshold int

	// MergeInterval is the longest logged entries wait for a merge when
	// fewer than MergeThreshold arrive. Default 30s.
	MergeInterval time.Duration

	// CloseMerge is how long Close may spend merging the log into the
	// B+tree after its final flush, so a restart replays little and does
	// not begin with writers waiting on a merge. Default 5s; negative: no
	// merge on Close (the next Open replays the log).
	CloseMerge time.Duration

	// SweepInterval is how often the sweeper scans for expired keys.
	// Default 1s; negative disables sweeping.
	SweepInterval time.Duration

	// SweepBatch is how many keys one sweep tick scans. Default 1000.
	SweepBatch int

	// LockTimeout is how long Open waits for another process to release
	// the file before failing with ErrLocked. Default 1s.
	LockTimeout time.Duration

	// Logger receives flush and sweep failures. Default slog.Default().
	Logger *slog.Logger

	// OnFlush, if set, is called after every commit attempt with the number
	// of keys written or deleted (the entries appended to the log, plus the
	// expired keys the sweeper found, deleted from kv in the same commit),
	// its duration and its error. It runs on the flusher goroutine and must
	// not block.
	OnFlush func(n int, d time.Duration, err error)

	// OnMerge, if set, is called after every merge transaction with the
	// number of logged entries it wrote to kv (a merge is committed in
	// several transactions over consecutive key ranges), its duration and
	// its error. last is true for the transaction that ends a merge (and
	// deletes the log records it covered). It runs on the flusher
	// goroutine and must not block.
	OnMerge func(n int, last bool, d time.Duration, err error)

	// OnSweep, if set, is called after every sweep tick with the keys
	// scanned, the expired keys removed, the duration and the error. It runs
	// on the flusher goroutine and must not block.
	OnSweep func(scanned, removed int, d time.Duration, err error)

	// Now is the clock that decides expiry. Default time.Now; tests set it.
	Now func() time.Time

	// failCommit, set by tests, makes a commit fail after it has written
	// its batch, to check that a failed commit loses nothing.
	failCommit func() error
	// failMerge, set by tests, runs inside every merge transaction after
	// its writes; an error makes it fail, and blocking holds the merge.
	failMerge func() error
	// holdMerge, set by tests, keeps merges from starting while it
	// returns true, as a disk too slow for them would.
	holdMerge func() bool
	// mergeChunk, set by tests, caps the entries one merge transaction
	// writes, so that merges span many transactions.
	mergeChunk int
}

func (o Options) withDefaults() Options {
	if o.FlushInterval <= 0 {
		o.FlushInterval = 100 * time.Millisecond
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 2000
	}
	if o.CloseMerge == 0 {
		o.CloseMerge = 5 * time.Second
	}
	if o.MergeThreshold <= 0 {
		o.MergeThreshold = 100_000
	}
	if o.MergeInterval <= 0 {
		o.MergeInterval = 30 * time.Second
	}
	if o.mergeChunk <= 0 {
		o.mergeChunk = mergeChunkMax
	}
	if o.SweepInterval == 0 {
		o.SweepInterval = time.Second
	}
	if o.SweepBatch <= 0 {
		o.SweepBatch = 1000
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
