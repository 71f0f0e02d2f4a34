package store

import (
	"errors"
	"fmt"
)

// MaxKeyLen is the longest key a store accepts. It is bbolt's limit; the
// other stores enforce it too so that a key that works in tests with the
// in-memory store, or in production on Redis, also works on the default
// embedded store.
const MaxKeyLen = 32768

// ErrBadKey is returned for an empty key or one longer than MaxKeyLen.
var ErrBadKey = errors.New("store: bad key")

// CheckKey returns an error wrapping ErrBadKey if key cannot be stored.
func CheckKey(key string) error {
	if len(key) == 0 {
		return fmt.Errorf("%w: empty", ErrBadKey)
	}
	if len(key) > MaxKeyLen {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrBadKey, len(key), MaxKeyLen)
	}
	return nil
}
