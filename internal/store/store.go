// Package store is the one storage interface every check uses. The embedded
// store (package store/boltstore) is the default; a Redis/Valkey store for
// several MX hosts sharing state comes later. Every implementation must pass
// the conformance suite in package store/storetest.
package store

import (
	"context"
	"errors"
	"time"
)

// ErrNotFound is returned by Get for a missing or expired key.
var ErrNotFound = errors.New("store: not found")

// ErrClosed is returned by every method after Close.
var ErrClosed = errors.New("store: closed")

// Store is a key-value store with per-key expiry and two atomic operations.
// Values are opaque bytes; expiry is absolute wall-clock time. An expired key
// behaves exactly like a missing one, even before it is physically removed.
type Store interface {
	// Get returns the value of key and its expiry time.
	Get(ctx context.Context, key string) (value []byte, expires time.Time, err error)
	// Put sets key to value, expiring at expires.
	Put(ctx context.Context, key string, value []byte, expires time.Time) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// CompareAndSwap sets key to new (expiring at expires) only if its
	// current value equals old, where old == nil means "key absent or
	// expired". It reports whether the swap happened.
	CompareAndSwap(ctx context.Context, key string, old, new []byte, expires time.Time) (bool, error)
	// Incr adds delta to the int64 counter at key (absent counts as 0) and
	// returns the new value. expires is set when the counter is created and
	// left alone afterwards, so a counter counts within a fixed window.
	// Counters are stored as decimal ASCII (Get returns e.g. "-12"), the
	// format Redis INCRBY uses, so a Redis store can map Incr onto it and
	// both stores read each other's counters the same way. Incr on a value
	// that is not such a number, or that would overflow int64, is an error
	// and leaves the value alone.
	Incr(ctx context.Context, key string, delta int64, expires time.Time) (int64, error)
	// Close flushes pending writes and releases the store.
	Close() error
}

// UpdateFunc decides the new state of one key from its current one. old is
// the key's value (nil and found false when it is absent or expired); it
// belongs to the store: fn must neither modify nor keep it. fn returns the
// new value, its expiry and whether to write at all (write false leaves
// the key alone); a nil new with write true deletes the key, and an expiry
// not in the future removes it just the same.
type UpdateFunc func(old []byte, found bool) (new []byte, expires time.Time, write bool)

// Updater is an optional interface of a Store that can run a
// read-modify-write of one key in one operation, under its own lock: the
// embedded and in-memory stores do, so a caller needs no Get +
// CompareAndSwap round trip and never loses a race. A store over a network
// (Redis) cannot run Go code and does not implement it; callers fall back
// to Get + CompareAndSwap. A store wrapper (metrics, logging) must forward
// it or its callers take that slower path.
type Updater interface {
	// Update calls fn exactly once with key's current state and applies
	// what it returns, with no other write to key in between. fn runs
	// with key locked: it must be quick and must not call the store.
	// Update fails (without calling fn) for a bad key or a closed store.
	Update(ctx context.Context, key string, fn UpdateFunc) error
}
