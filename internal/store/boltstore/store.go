package boltstore

import (
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/tempfail/tempfail/internal/store"
)

// ErrLocked is returned by Open when another process has the file open.
var ErrLocked = errors.New("database is locked by another process")

// logCapFactor times Options.MergeThreshold is the number of unmerged
// entries at which writers wait for merges. It bounds memory and the log
// Open replays (about 1 µs per entry, mostly page faults, on the 2-vCPU
// machine docs/performance.md was measured on: 200 000 entries keep the
// start-up after a crash under load well under a second). Under sustained
// overload merges grow to about this size, and bigger merges cost less per
// key: 4 instead of 2 gave 65 000 instead of 47 500 random inserts/s into
// a million-key file there, but twice the replay.
const logCapFactor = 2

// stripes is the number of per-key locks serialising writers. Far more than
// the cores we run on, so unrelated keys rarely share one.
const stripes = 256

// Store is a store.Store on a bbolt file. It is safe for concurrent use.
type Store struct {
	opts Options
	db   *bolt.DB
	log  *slog.Logger
	now  func() time.Time

	seed    maphash.Seed
	stripes [stripes]stripe
	ov      *overlay
	filter  diskFilter

	kick chan struct{} // asks the flusher for an early commit
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the flusher has made its last commit

	// Owned by the flusher goroutine.
	sweepCursor     []byte      // first key of the next sweep scan; nil: start
	failures        int         // consecutive failed commits
	lastErrLog      time.Time   // rate-limits flush error logging
	closeErr        error       // result of the final flush, read after done
	lastSeq         uint64      // sequence number of the newest log record
	merge           *mergeState // the merge in progress, or nil
	chunk           int         // entries the next merge transaction writes
	lastMerge       time.Time   // end of the last merge (or Open)
	mergeRetry      time.Time   // no merge before this, after a failure
	mergeFailures   int         // consecutive failed merge transactions
	lastMergeErrLog time.Time   // rate-limits merge error logging

	forceMerge atomic.Bool // see requestMerge

	// Written by the flusher, read by Stats.
	keys        atomic.Int64
	flushes     atomic.Uint64
	flushErrors atomic.Uint64
	merges      atomic.Uint64
	mergeErrors atomic.Uint64
	mergedKeys  atomic.Uint64
	scanned     atomic.Uint64
	swept       atomic.Uint64
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Updater = (*Store)(nil)
)

// Open opens or creates the database at opts.Path and starts the flusher.
// It reads the log (the writes not merged into the B+tree yet, at most
// about 2 x MergeThreshold entries) but not the B+tree itself: opening a
// file of a million keys costs an mmap, a few pages and the log replay.
func Open(opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if opts.Path == "" {
		return nil, errors.New("boltstore: open: empty path")
	}
	db, err := bolt.Open(opts.Path, 0o600, &bolt.Options{
		Timeout: opts.LockTimeout,
		// The hashmap freelist stays fast when sweeping leaves many free
		// pages; the array one degrades with fragmentation.
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("boltstore: open %s: %w (gave up after %v)", opts.Path, ErrLocked, opts.LockTimeout)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", opts.Path, err)
	}
	keys, err := initMeta(db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: open %s: %w", opts.Path, err)
	}
	s := &Store{
		opts: opts,
		db:   db,
		log:  opts.Logger.With("store", "bolt", "path", opts.Path),
		now:  opts.Now,
		seed: maphash.MakeSeed(),
		ov:   newOverlay(opts.MaxPending, logCapFactor*opts.MergeThreshold),
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),

		chunk:     min(mergeChunkStart, opts.mergeChunk),
		lastMerge: time.Now(),
	}
	if err := s.replay(); err != nil {
		db.Close()
		return nil, fmt.Errorf("boltstore: open %s: %w", opts.Path, err)
	}
	s.keys.Store(keys)
	go s.run()
	go s.buildFilter()
	return s, nil
}

// Close commits every acknowledged write and closes the file. If the final
// commit fails, the error says how many keys were lost.
func (s *Store) Close() error {
	if !s.ov.close() {
		return store.ErrClosed
	}
	close(s.stop)
	<-s.done
	err := s.closeErr
	if cerr := s.db.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("boltstore: close %s: %w", s.opts.Path, cerr))
	}
	return err
}

func (s *Store) stripe(key string) *stripe {
	return &s.stripes[maphash.String(s.seed, key)%stripes]
}

// boltErr maps the error of a read on a closed bbolt DB, which a read that
// raced with Close can see, to store.ErrClosed.
func boltErr(op, key string, err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return store.ErrClosed
	}
	return fmt.Errorf("boltstore: %s %q: %w", op, key, err)
}
