package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/tempfail/tempfail/internal/store"
)

// Get implements store.Store.
func (s *Store) Get(_ context.Context, key string) ([]byte, time.Time, error) {
	if err := store.CheckKey(key); err != nil {
		return nil, time.Time{}, err
	}
	val, exp, live, err := s.currentLocked(key)
	if err != nil {
		return nil, time.Time{}, err
	}
	if !live {
		return nil, time.Time{}, store.ErrNotFound
	}
	// Overlay records are shared and immutable; the caller owns its copy.
	return append([]byte{}, val...), time.Unix(0, exp), nil
}

// currentLocked is current for readers that do not hold the stripe lock:
// the overlay is read lock-free, the disk path under the lock.
func (s *Store) currentLocked(key string) (val []byte, exp int64, live bool, err error) {
	// A key the filter has never seen is nowhere: every key written is
	// added to the filter before its writer lets go of the key's stripe,
	// and a rebuilt filter starts from the overlay's keys (buildFilter).
	// This skips the overlay's lock, the busiest in the store, for the
	// never-seen keys greylisting asks about on most requests.
	if f := s.filter.cur.Load(); f != nil && !f.mayContain(key) {
		select {
		case <-s.stop:
			return nil, 0, false, store.ErrClosed
		default:
			return nil, 0, false, nil
		}
	}
	rec, found, err := s.ov.get(key)
	if err != nil {
		return nil, 0, false, err
	}
	now := s.now().UnixNano()
	if found {
		if rec == nil || recordExp(rec) <= now {
			return nil, 0, false, nil
		}
		return rec[headerLen:], recordExp(rec), true, nil
	}
	st := s.stripe(key)
	st.Lock()
	defer st.Unlock()
	// A writer may have slipped in since the overlay miss.
	return s.current(key)
}

// current returns key's live value and expiry. val may alias an overlay
// record and must not be modified. Writers call it under the key's stripe
// lock, which makes what it returns the state their write replaces: the
// flusher only moves records from the overlay to bbolt, and the sweeper only
// removes keys that read as missing anyway.
func (s *Store) current(key string) (val []byte, exp int64, live bool, err error) {
	rec, found, err := s.ov.get(key)
	if err != nil {
		return nil, 0, false, err
	}
	now := s.now().UnixNano()
	if found {
		if rec == nil || recordExp(rec) <= now {
			return nil, 0, false, nil
		}
		return rec[headerLen:], recordExp(rec), true, nil
	}
	return s.fromDisk(key, now)
}

// fromDisk reads key from the read cache or bbolt. The caller holds key's
// stripe lock: writers invalidate the cache under the same lock, so a value
// read from bbolt can never be cached after a newer write.
func (s *Store) fromDisk(key string, now int64) (val []byte, exp int64, live bool, err error) {
	st := s.stripe(key)
	rec, cached := st.cached(key)
	if !cached && !s.filter.maybeOnDisk(key) {
		return nil, 0, false, nil
	}
	if !cached {
		err = s.db.View(func(tx *bolt.Tx) error {
			r := tx.Bucket(kvBucket).Get([]byte(key))
			if r == nil {
				return nil
			}
			if len(r) < headerLen {
				return fmt.Errorf("corrupt record of %d bytes", len(r))
			}
			// bbolt's memory is only valid inside the transaction.
			rec = append([]byte{}, r...)
			return nil
		})
		if err != nil {
			return nil, 0, false, boltErr("get", key, err)
		}
		st.remember(key, rec)
	}
	if rec == nil || recordExp(rec) <= now {
		return nil, 0, false, nil
	}
	return rec[headerLen:], recordExp(rec), true, nil
}

// write stores rec (nil: delete) for key; the caller holds its stripe lock.
func (s *Store) write(key string, rec []byte) error {
	return s.writeRec(key, rec, false)
}

// writeRec is write; wasLive says the key was live before this write (the
// caller read it under the same lock), so the key filter has it already:
// every live key was added when written, or by the build that scanned it.
// Skipping the re-add saves the hashing and keeps rewrites of the same keys
// (rate-limit buckets) from counting towards the filter's rebuild.
func (s *Store) writeRec(key string, rec []byte, wasLive bool) error {
	if rec != nil && recordExp(rec) <= s.now().UnixNano() {
		// Already expired: a tombstone hides the old value just the same
		// and keeps a dead record off the disk.
		rec = nil
	}
	n, err := s.ov.set(key, rec)
	if err != nil {
		return err
	}
	s.stripe(key).forget(key)
	if rec != nil && !wasLive && s.filter.addKey(key) {
		go s.buildFilter()
	}
	if n >= s.opts.MaxPending {
		select {
		case s.kick <- struct{}{}:
		default: // a kick is already pending
		}
	}
	return nil
}

// Put implements store.Store.
func (s *Store) Put(_ context.Context, key string, value []byte, expires time.Time) error {
	if err := store.CheckKey(key); err != nil {
		return err
	}
	rec := encode(value, unixNano(expires))
	mu := s.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	return s.write(key, rec)
}

// Delete implements store.Store.
func (s *Store) Delete(_ context.Context, key string) error {
	if err := store.CheckKey(key); err != nil {
		return err
	}
	mu := s.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	return s.write(key, nil)
}

// CompareAndSwap implements store.Store.
func (s *Store) CompareAndSwap(_ context.Context, key string, old, new []byte, expires time.Time) (bool, error) {
	if err := store.CheckKey(key); err != nil {
		return false, err
	}
	rec := encode(new, unixNano(expires))
	mu := s.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	val, _, live, err := s.current(key)
	if err != nil {
		return false, err
	}
	if old == nil && live || old != nil && (!live || !bytes.Equal(val, old)) {
		return false, nil
	}
	if err := s.write(key, rec); err != nil {
		return false, err
	}
	return true, nil
}

// Update implements store.Updater: one stripe lock, one read (the overlay,
// else the read cache or bbolt) and one overlay write, where Get +
// CompareAndSwap take the overlay's lock three times and may lose the race.
func (s *Store) Update(_ context.Context, key string, fn store.UpdateFunc) error {
	if err := store.CheckKey(key); err != nil {
		return err
	}
	mu := s.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	val, _, live, err := s.current(key)
	if err != nil {
		return err
	}
	if !live {
		val = nil
	}
	nv, exp, write := fn(val, live)
	switch {
	case !write, nv == nil && !live:
		return nil
	case nv == nil:
		return s.write(key, nil)
	}
	return s.writeRec(key, encode(nv, unixNano(exp)), live)
}

// Incr implements store.Store.
func (s *Store) Incr(_ context.Context, key string, delta int64, expires time.Time) (int64, error) {
	if err := store.CheckKey(key); err != nil {
		return 0, err
	}
	mu := s.stripe(key)
	mu.Lock()
	defer mu.Unlock()
	val, exp, live, err := s.current(key)
	if err != nil {
		return 0, err
	}
	var n int64
	if live {
		if n, err = store.ParseCounter(val); err != nil {
			return 0, fmt.Errorf("boltstore: incr %q: %w", key, err)
		}
	} else {
		exp = unixNano(expires)
	}
	if n, err = store.AddCounter(n, delta); err != nil {
		return 0, fmt.Errorf("boltstore: incr %q by %d: %w", key, delta, err)
	}
	const maxDigits = 20 // "-9223372036854775808"
	if err := s.write(key, store.AppendCounter(newRecord(exp, maxDigits), n)); err != nil {
		return 0, err
	}
	return n, nil
}
