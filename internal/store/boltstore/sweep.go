package boltstore

import (
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// sweep scans the next SweepBatch keys for expired ones and deletes them in
// a commit right away, which takes the overlay along. The scan is a read
// transaction, so it blocks no one, and a tick that finds nothing expired
// costs no commit. It reports whether most keys scanned were expired, in
// which case the caller sweeps again without waiting for the next tick, so
// that the sweeper keeps up with expiry at any write rate.
func (s *Store) sweep() (busy bool) {
	start := time.Now()
	now := s.now().UnixNano()
	var (
		expired [][]byte
		scanned int
		next    []byte
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(kvBucket).Cursor()
		var k, v []byte
		if s.sweepCursor == nil {
			k, v = c.First()
		} else {
			k, v = c.Seek(s.sweepCursor)
		}
		for ; k != nil && scanned < s.opts.SweepBatch; k, v = c.Next() {
			scanned++
			if len(v) >= headerLen && recordExp(v) <= now {
				expired = append(expired, append([]byte(nil), k...))
			}
		}
		if k != nil {
			next = append([]byte(nil), k...)
		}
		return nil
	})
	removed := 0
	if err != nil {
		err = fmt.Errorf("boltstore: sweep scan of %s: %w", s.opts.Path, err)
		s.log.Warn("sweep failed", "err", err)
	} else {
		// nil next: the scan reached the end and starts over next time.
		s.sweepCursor = next
		if len(expired) > 0 {
			// A failed commit is logged by flush; the keys are found again
			// on the next pass.
			removed, err = s.flush(expired)
		}
	}
	s.scanned.Add(uint64(scanned))
	s.swept.Add(uint64(removed))
	if s.opts.OnSweep != nil {
		s.opts.OnSweep(scanned, removed, time.Since(start), err)
	}
	return err == nil && removed > scanned/2
}
