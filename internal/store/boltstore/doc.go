// Package boltstore is the embedded default store.Store, a single bbolt
// file owned by one process.
//
// # Write-behind
//
// A policy server answers one request per SMTP transaction; paying one fsync
// per request would bound throughput by disk latency. So writes (Put,
// Delete, CompareAndSwap, Incr) are applied to an in-memory overlay and
// acknowledged at once, and a background flusher commits the whole overlay
// in one bbolt transaction every Options.FlushInterval, or sooner when
// Options.MaxPending keys are dirty. Readers look at the overlay first, then
// at the batch being committed, then at bbolt, so every read sees every
// acknowledged write. Read-modify-write operations hold a per-key stripe
// lock across that lookup and their write, so they are atomic.
//
// # What a crash can lose
//
// A crash (kill -9, power loss) loses at most the writes acknowledged within
// FlushInterval plus one commit before it. Precisely: an acknowledged write
// waits for the next flush tick, or for the commit in progress to end if
// that is later, and then for its own commit. MaxPending bounds the size of
// a commit, and so its duration: when writes outrun the disk, writers wait
// for the flusher instead of growing the next batch. bbolt's
// copy-on-write meta pages guarantee the file opens cleanly after a crash,
// holding exactly the state of the last successful commit.
//
// While commits fail (disk full, I/O error) writes stay in memory, the
// failure is logged, every tick retries, and the window grows until a commit
// succeeds; writers do not wait then, since stalling mail is worse. Close
// flushes everything, and reports the writes it could not commit.
//
// # On disk
//
// Bucket "kv" maps each key to an 8-byte big-endian expiry (Unix
// nanoseconds) followed by the value: 8 bytes per entry on top of bbolt's
// own 16-byte leaf element. Keys arriving in random order leave bbolt's
// pages about 69% full, so a million greylist entries of about 65-byte keys
// and 16-byte values take about 190 bytes each on disk. Bucket "meta" holds
// the format version and the key count, kept up to date by every commit so
// that Open never scans.
//
// # Expiry
//
// Expired entries read as missing at once. They are removed from disk by an
// incremental sweeper: every Options.SweepInterval it scans
// Options.SweepBatch keys onward from where the previous scan stopped, in a
// short read transaction, and deletes the expired ones in a commit. It also
// sweeps right after Open, and again without waiting for the tick while
// most keys it scans are expired, so it keeps up with any expiry rate. No
// scan ever covers the whole file in one go.
package boltstore
