package boltstore

// Stats is a snapshot of counters for metrics. It is cheap: no I/O.
type Stats struct {
	// Keys is the number of keys on disk as of the last commit, expired
	// ones not yet swept included; writes still pending are not counted.
	Keys int64
	// Pending is the number of keys written but not yet committed.
	Pending int
	// Flushes and FlushErrors count successful and failed commits.
	Flushes, FlushErrors uint64
	// Scanned and Swept count keys the sweeper looked at and removed.
	Scanned, Swept uint64
}

// Stats returns the current counters.
func (s *Store) Stats() Stats {
	return Stats{
		Keys:        s.keys.Load(),
		Pending:     s.ov.pending(),
		Flushes:     s.flushes.Load(),
		FlushErrors: s.flushErrors.Load(),
		Scanned:     s.scanned.Load(),
		Swept:       s.swept.Load(),
	}
}
