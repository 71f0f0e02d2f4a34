package engine

import "sync"

// Lazy is a value computed at most once, on first use. Facts are built from
// Lazy fields so a costly lookup (reverse DNS, SPF, DNSBL) runs only if some
// check asks for it, and only once however many checks ask.
type Lazy[T any] struct {
	once sync.Once
	v    T
	err  error
}

// Get returns the value, computing it with f on the first call.
func (l *Lazy[T]) Get(f func() (T, error)) (T, error) {
	l.once.Do(func() { l.v, l.err = f() })
	return l.v, l.err
}

// Facts are per-request derived values shared by all checks. Checks add
// their own derived values through Lazy fields here rather than recomputing
// them (the DNS facts of later checks live here too).
type Facts struct {
	// Trusted is set by a check that established the client as known
	// (passed greylisting, auto-allowlisted or exempt); later checks, such
	// as rate limits for new clients, read it.
	Trusted bool
	// TrustedBy names the check and reason that made it trusted.
	TrustedBy string
}
