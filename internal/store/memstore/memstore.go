// Package memstore is an in-memory store.Store for unit tests of checks:
// no files, no background goroutines, and an injectable clock so a test can
// move time forward instead of sleeping.
package memstore

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tempfail/tempfail/internal/store"
)

// Store is a map behind one mutex. It is safe for concurrent use.
type Store struct {
	now func() time.Time

	mu     sync.Mutex
	closed bool
	m      map[string]entry
	// Sweeping after as many writes as there were keys after the last
	// sweep bounds expired garbage at amortised O(1) per write, with no
	// goroutine.
	writes, sizeAtSweep int
}

type entry struct {
	val []byte // owned by the store, never nil
	exp time.Time
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Updater = (*Store)(nil)
)

// New returns an empty store using the wall clock.
func New() *Store { return NewWithClock(time.Now) }

// NewWithClock returns an empty store that decides expiry by now, so tests
// can expire keys by advancing a fake clock.
func NewWithClock(now func() time.Time) *Store {
	return &Store{now: now, m: make(map[string]entry)}
}

// Len returns the number of stored keys, expired ones not yet removed
// included.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// live returns key's entry if present and not expired. Callers hold s.mu.
func (s *Store) live(key string) (entry, bool) {
	e, ok := s.m[key]
	if !ok {
		return entry{}, false
	}
	if !e.exp.After(s.now()) {
		delete(s.m, key)
		return entry{}, false
	}
	return e, true
}

// set stores a copy of val. Callers hold s.mu.
func (s *Store) set(key string, val []byte, exp time.Time) {
	if !exp.After(s.now()) {
		delete(s.m, key)
		return
	}
	s.m[key] = entry{val: append([]byte{}, val...), exp: exp}
	s.writes++
	if s.writes > max(s.sizeAtSweep, 64) {
		s.sweep()
	}
}

func (s *Store) sweep() {
	now := s.now()
	for k, e := range s.m {
		if !e.exp.After(now) {
			delete(s.m, k)
		}
	}
	s.writes, s.sizeAtSweep = 0, len(s.m)
}

// lock takes s.mu and checks that key is usable and the store open; on
// error s.mu is not held.
func (s *Store) lock(key string) error {
	if err := store.CheckKey(key); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrClosed
	}
	return nil
}

// Get implements store.Store.
func (s *Store) Get(_ context.Context, key string) ([]byte, time.Time, error) {
	if err := s.lock(key); err != nil {
		return nil, time.Time{}, err
	}
	defer s.mu.Unlock()
	e, ok := s.live(key)
	if !ok {
		return nil, time.Time{}, store.ErrNotFound
	}
	return append([]byte{}, e.val...), e.exp, nil
}

// Put implements store.Store.
func (s *Store) Put(_ context.Context, key string, value []byte, expires time.Time) error {
	if err := s.lock(key); err != nil {
		return err
	}
	defer s.mu.Unlock()
	s.set(key, value, expires)
	return nil
}

// Delete implements store.Store.
func (s *Store) Delete(_ context.Context, key string) error {
	if err := s.lock(key); err != nil {
		return err
	}
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// CompareAndSwap implements store.Store.
func (s *Store) CompareAndSwap(_ context.Context, key string, old, new []byte, expires time.Time) (bool, error) {
	if err := s.lock(key); err != nil {
		return false, err
	}
	defer s.mu.Unlock()
	e, ok := s.live(key)
	if old == nil && ok || old != nil && (!ok || !bytes.Equal(e.val, old)) {
		return false, nil
	}
	s.set(key, new, expires)
	return true, nil
}

// Update implements store.Updater.
func (s *Store) Update(_ context.Context, key string, fn store.UpdateFunc) error {
	if err := s.lock(key); err != nil {
		return err
	}
	defer s.mu.Unlock()
	e, ok := s.live(key)
	nv, exp, write := fn(e.val, ok)
	switch {
	case !write:
	case nv == nil:
		delete(s.m, key)
	default:
		s.set(key, nv, exp)
	}
	return nil
}

// Incr implements store.Store.
func (s *Store) Incr(_ context.Context, key string, delta int64, expires time.Time) (int64, error) {
	if err := s.lock(key); err != nil {
		return 0, err
	}
	defer s.mu.Unlock()
	var n int64
	if e, ok := s.live(key); ok {
		cur, err := store.ParseCounter(e.val)
		if err != nil {
			return 0, fmt.Errorf("memstore: incr %q: %w", key, err)
		}
		n, expires = cur, e.exp
	}
	n, err := store.AddCounter(n, delta)
	if err != nil {
		return 0, fmt.Errorf("memstore: incr %q by %d: %w", key, delta, err)
	}
	s.set(key, store.AppendCounter(nil, n), expires)
	return n, nil
}

// Close implements store.Store.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return store.ErrClosed
	}
	s.closed = true
	s.m = nil
	return nil
}
