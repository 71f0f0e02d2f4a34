// Package boltstore is the embedded default store.Store, a single bbolt
// file owned by one process.
//
// # Write-behind
//
// A policy server answers one request per SMTP transaction; paying one fsync
// per request would bound throughput by disk latency. So writes (Put,
// Delete, CompareAndSwap, Incr) are applied to an in-memory overlay and
// acknowledged at once, and a background flusher commits the overlay in one
// bbolt transaction every Options.FlushInterval, or sooner when
// Options.MaxPending keys are dirty. Read-modify-write operations hold a
// per-key stripe lock across their lookup and their write, so they are
// atomic.
//
// # Log and merge
//
// Greylisting inserts a new random key on almost every request. In a B+tree
// each random key dirties its own 4 KiB leaf page, so committing a batch of
// random keys straight into the tree costs a page write per key (20-47 µs
// per key measured here) and bounds the write rate. Instead a commit
// appends the whole batch as one value to bucket "log", under the next
// sequence number: it writes about the batch's bytes, however many keys it
// holds. The batch's entries then stay in memory ("logged") until a merge
// writes them into bucket "kv", the B+tree, in sorted key order: a merge of
// Options.MergeThreshold entries rewrites each leaf page it touches once
// for all the entries that fall into it, and then deletes the log records
// it covered. A merge is split into transactions over consecutive key
// ranges, between which the flusher goes on committing the log, so writers
// never wait for a whole merge; only when merges fall behind by 2 x
// MergeThreshold entries do writers wait for them, one merge transaction at
// a time, which bounds memory and the log. Open replays the log into memory
// before serving.
//
// Readers look at the dirty writes first, then at the batch being
// committed, then at the logged entries (newest first), then at kv, so
// every read sees every acknowledged write. Entries move between these
// stages under the overlay's lock, and leave memory only after kv has them.
//
// # What a crash can lose
//
// A crash (kill -9, power loss) loses at most the writes acknowledged within
// FlushInterval plus one commit before it. Precisely: an acknowledged write
// waits for the next flush tick, or for the transaction in progress (a log
// commit, a sweep or one merge transaction, which is kept to tens of
// milliseconds) to end if that is later, and then for its own log commit.
// MaxPending bounds the size of a log commit, and so its duration: when
// writes outrun the disk, writers wait for the flusher instead of growing
// the next batch. bbolt's copy-on-write meta pages guarantee the file opens
// cleanly after a crash, holding exactly the state of the last successful
// commit. A crash in the middle of a merge leaves part of its entries in kv
// and all of its log records in place: replaying them and merging again
// writes the same newest states, so it is harmless.
//
// While commits fail (disk full, I/O error) writes stay in memory, the
// failure is logged, every tick retries, and the window grows until a commit
// succeeds; writers do not wait then, since stalling mail is worse. Failing
// merges are retried the same way, and writers do not wait for them either.
// Close commits everything to the log (it does not merge: the next Open
// replays the log), and reports the writes it could not commit.
//
// # On disk
//
// Bucket "kv" maps each key to an 8-byte big-endian expiry (Unix
// nanoseconds) followed by the value: 8 bytes per entry on top of bbolt's
// own 16-byte leaf element. Bucket "log" maps 8-byte big-endian sequence
// numbers to batches (see encodeBatch). Bucket "meta" holds the format
// version and the number of keys in kv, kept up to date by every commit so
// that Open never scans the tree.
//
// # Expiry
//
// Expired entries read as missing at once. A logged entry that has expired
// by the time it is merged is not written to kv (it deletes the key there,
// like a tombstone). Entries in kv are removed by an incremental sweeper:
// every Options.SweepInterval it scans Options.SweepBatch keys onward from
// where the previous scan stopped, in a short read transaction, and deletes
// the expired ones in a commit. It also sweeps right after Open, and again
// without waiting for the tick while most keys it scans are expired, so it
// keeps up with any expiry rate. No scan ever covers the whole file in one
// go.
package boltstore
