package boltstore

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// errorLogEvery rate-limits logging of a commit failure that repeats every
// tick (a full disk), without hiding the first one or the recovery.
const errorLogEvery = 10 * time.Second

// finalFlushTries is how often Close retries a failing last commit before
// giving up and reporting the loss.
const finalFlushTries = 3

// run is the flusher goroutine: the only writer to bbolt, so log commits,
// merges and sweeps never contend for bbolt's single write transaction.
func (s *Store) run() {
	defer close(s.done)
	flushTick := time.NewTicker(s.opts.FlushInterval)
	defer flushTick.Stop()
	var sweepC <-chan time.Time
	if s.opts.SweepInterval > 0 {
		sweepTick := time.NewTicker(s.opts.SweepInterval)
		defer sweepTick.Stop()
		sweepC = sweepTick.C
	}
	// sweepNow, when non-nil, is a ready channel: sweep without waiting for
	// a tick, at start (keys expired while we were down) and while sweeps
	// find mostly expired keys. Going through select keeps flush ticks and
	// Close served in between.
	var sweepNow chan struct{}
	ready := make(chan struct{})
	close(ready)
	if sweepC != nil {
		sweepNow = ready
	}
	for {
		select {
		case <-s.mergeChan():
			// Log commits come first: writers may be waiting for them,
			// and the crash window depends on them, while a merge only
			// needs to keep up on average.
			select {
			case <-s.kick:
				s.flush(nil)
			case <-flushTick.C:
				s.flush(nil)
			default:
				s.mergeStep()
			}
		case <-sweepNow:
			sweepNow = nil
			if s.sweep() {
				sweepNow = ready
			}
		case <-s.stop:
			s.closeErr = s.finalFlush()
			if s.closeErr == nil {
				s.mergeOnClose()
			}
			return
		case <-flushTick.C:
			s.flush(nil)
		case <-s.kick:
			s.flush(nil)
		case <-sweepC:
			if s.sweep() {
				sweepNow = ready
			}
		}
	}
}

func (s *Store) finalFlush() error {
	var err error
	for try := 1; try <= finalFlushTries; try++ {
		if _, err = s.flush(nil); err == nil {
			return nil
		}
		time.Sleep(s.opts.FlushInterval)
	}
	return fmt.Errorf("boltstore: close %s: %d writes lost: %w", s.opts.Path, s.ov.pending(), err)
}

// mergeOnClose merges the log into kv for at most Options.CloseMerge, so
// that the next Open has little to replay and writers after a restart do
// not start out waiting for a merge. What is left stays in the log.
func (s *Store) mergeOnClose() {
	if s.opts.CloseMerge <= 0 {
		return
	}
	deadline := time.NewTimer(s.opts.CloseMerge)
	defer deadline.Stop()
	s.forceMerge.Store(true)
	for {
		ch := s.mergeChan()
		if ch == nil {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			return
		}
		select {
		case <-deadline.C:
			return
		default:
		}
		s.mergeStep()
	}
}

// flush appends the dirty writes to the log, and deletes the expired keys
// the sweeper found from kv, in one transaction. It returns how many
// expired keys it removed. On failure the overlay keeps the batch and the
// next call retries it.
func (s *Store) flush(expired [][]byte) (removed int, err error) {
	// Timed from before the swap, so OnFlush's start bounds the writes the
	// commit holds: everything acknowledged before it.
	start := time.Now()
	batch := s.ov.take()
	if len(batch) == 0 && len(expired) == 0 {
		return 0, nil
	}
	removed, seq, err := s.commit(batch, expired)
	d := time.Since(start)
	if err == nil {
		if len(batch) > 0 {
			s.lastSeq = seq
		}
		s.ov.committed()
		s.keys.Add(-int64(removed))
		s.flushes.Add(1)
	} else {
		removed = 0
		s.ov.failed()
		s.flushErrors.Add(1)
	}
	s.logFlush(len(batch), d, err)
	if s.opts.OnFlush != nil {
		s.opts.OnFlush(len(batch)+len(expired), d, err)
	}
	return removed, err
}

// commit appends batch to the log as one record and deletes the expired
// keys from kv, returning how many it removed and the record's sequence
// number. However many keys the batch holds, the log gets one value under
// the next, highest key: the commit writes about the batch's bytes, where
// putting random keys into kv would rewrite a leaf page per key.
func (s *Store) commit(batch map[string][]byte, expired [][]byte) (removed int, seq uint64, err error) {
	now := s.now().UnixNano()
	var val []byte
	if len(batch) > 0 {
		val = encodeBatch(batch) // outside the transaction: it needs no lock
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		removed = 0
		b := tx.Bucket(kvBucket)
		// The expiry is checked again: a merge since the scan may have
		// replaced the key. A newer write of the key in the batch or the
		// log is merged later and wins.
		for _, k := range expired {
			if rec := b.Get(k); rec != nil && len(rec) >= headerLen && recordExp(rec) <= now {
				if err := b.Delete(k); err != nil {
					return fmt.Errorf("sweep delete %q: %w", k, err)
				}
				removed++
			}
		}
		if val != nil {
			lb := tx.Bucket(logBucket)
			// Records are appended in key order and never inserted in
			// between, so pages can be filled completely.
			lb.FillPercent = 1
			var err error
			if seq, err = lb.NextSequence(); err != nil {
				return fmt.Errorf("log sequence: %w", err)
			}
			if err := lb.Put(encodeUint(seq), val); err != nil {
				return fmt.Errorf("log append: %w", err)
			}
		}
		if s.opts.failCommit != nil {
			if err := s.opts.failCommit(); err != nil {
				return err
			}
		}
		if removed == 0 {
			return nil
		}
		return putKeyCount(tx, s.keys.Load()-int64(removed))
	})
	if err != nil {
		return 0, 0, fmt.Errorf("boltstore: commit %d writes to %s: %w", len(batch), s.opts.Path, err)
	}
	return removed, seq, nil
}

func (s *Store) logFlush(n int, d time.Duration, err error) {
	if err == nil {
		if s.failures > 0 {
			s.log.Info("commit recovered", "failed_commits", s.failures, "keys", n, "duration", d)
		}
		s.failures = 0
		return
	}
	s.failures++
	if s.failures == 1 || time.Since(s.lastErrLog) >= errorLogEvery {
		s.lastErrLog = time.Now()
		s.log.Error("commit failed; writes kept in memory and retried",
			"err", err, "failed_commits", s.failures, "pending", s.ov.pending(), "duration", d)
	}
}
