package boltstore

// Stats is a snapshot of counters for metrics. It is cheap: no I/O.
type Stats struct {
	// Keys is the number of keys in the B+tree (bucket "kv") as of the last
	// merge or sweep, expired ones not yet swept included; writes still in
	// the log or pending are not counted.
	Keys int64
	// Pending is the number of keys written but not yet committed.
	Pending int
	// Logged is the number of entries committed to the log but not yet
	// merged into the B+tree (an upper bound: a key written again since a
	// merge started counts twice). Entries a running merge has written
	// already are not counted, though they stay in memory (and their log
	// records on disk) until it ends.
	Logged int
	// Flushes and FlushErrors count successful and failed commits of the
	// log (each commit appends one record).
	Flushes, FlushErrors uint64
	// Merges counts completed merges of the log into the B+tree,
	// MergeErrors failed merge transactions, and Merged the entries written
	// to the B+tree by merge transactions.
	Merges, MergeErrors, Merged uint64
	// Scanned and Swept count keys the sweeper looked at and removed.
	Scanned, Swept uint64
}

// Stats returns the current counters.
func (s *Store) Stats() Stats {
	logged, _ := s.ov.loggedLen()
	return Stats{
		Keys:        s.keys.Load(),
		Pending:     s.ov.pending(),
		Logged:      logged,
		Flushes:     s.flushes.Load(),
		FlushErrors: s.flushErrors.Load(),
		Merges:      s.merges.Load(),
		MergeErrors: s.mergeErrors.Load(),
		Merged:      s.mergedKeys.Load(),
		Scanned:     s.scanned.Load(),
		Swept:       s.swept.Load(),
	}
}
