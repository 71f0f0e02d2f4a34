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
	// Default 2000: with random keys each key costs about one page write
	// once the file holds a few hundred thousand keys, so bigger batches buy
	// little throughput but lengthen commits.
	MaxPending int

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
	// of keys written or deleted, its duration and its error. It runs on the
	// flusher goroutine and must not block.
	OnFlush func(n int, d time.Duration, err error)

	// OnSweep, if set, is called after every sweep tick with the keys
	// scanned, the expired keys removed, the duration and the error. It runs
	// on the flusher goroutine and must not block.
	OnSweep func(scanned, removed int, d time.Duration, err error)

	// Now is the clock that decides expiry. Default time.Now; tests set it.
	Now func() time.Time

	// failCommit, set by tests, makes a commit fail after it has written
	// its batch, to check that a failed commit loses nothing.
	failCommit func() error
}

func (o Options) withDefaults() Options {
	if o.FlushInterval <= 0 {
		o.FlushInterval = 100 * time.Millisecond
	}
	if o.MaxPending <= 0 {
		o.MaxPending = 2000
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
