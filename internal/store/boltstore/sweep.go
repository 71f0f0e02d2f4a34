package boltstore

import (
	"time"

	bolt "go.etcd.io/bbolt"
)

// sweep scans the next SweepBatch keys for expired ones and has them
// deleted by a commit right away. The scan is a read transaction that does
// not block writers; the deletion rides in the same commit as the overlay,
// so sweeping costs no extra fsync.
func (s *Store) sweep() {
	start := time.Now()
	now := s.now().UnixNano()
	var (
		expired [][]byte
		scanned int
		next    []byte
	)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(kvBucket).Cursor()
		k, v := c.First()
		if s.sweepCursor != nil {
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
	if err == nil {
		// nil next: the scan reached the end and starts over next time.
		s.sweepCursor = next
		if len(expired) > 0 {
			removed, err = s.flush(expired)
		}
	}
	if err != nil {
		s.log.Warn("sweep failed", "err", err)
	}
	s.scanned.Add(uint64(scanned))
	s.swept.Add(uint64(removed))
	if s.opts.OnSweep != nil {
		s.opts.OnSweep(scanned, removed, time.Since(start), err)
	}
}
