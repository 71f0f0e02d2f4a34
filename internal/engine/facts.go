package engine

import (
	"sync"

	"github.com/tempfail/tempfail/internal/facts"
)

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
	// before this transaction (a triplet that passed greylisting earlier,
	// auto-allowlisted, exempt); later checks, such as rate limits for new
	// clients, read it. The engine carries it through the transaction: once
	// a RCPT request set it, the DATA and END-OF-MESSAGE requests of the
	// same Postfix instance start with it set.
	Trusted bool
	// TrustedBy names the check and reason that made it trusted.
	TrustedBy string
	// DNS are the DNS facts of the request: reverse DNS, sender domain,
	// SPF (once per transaction), DNSBL score and risk, each computed on
	// first use (package facts).
	DNS facts.Set
}

// trustKey is where the engine keeps Facts.Trusted in the transaction
// state; check names never start with "engine.".
const trustKey = "engine.trusted"

// carryTrust pre-fills c.Facts from the transaction: a client that a RCPT
// request of this transaction established as trusted stays trusted for the
// DATA and END-OF-MESSAGE requests, which greylisting does not look at. It
// reports whether trust came from the transaction.
func carryTrust(c *Call) bool {
	by, ok := c.Txn.Get(trustKey).(string)
	if !ok {
		return false
	}
	c.Facts.Trusted, c.Facts.TrustedBy = true, by
	return true
}

// rememberTrust stores c.Facts' trust in the transaction. Trust only ever
// goes from untrusted to trusted within a transaction: one recipient's
// known triplet speaks for the client, whatever the other recipients are.
func rememberTrust(c *Call) {
	by := c.Facts.TrustedBy
	c.Txn.Update(trustKey, func(old any) any {
		if s, ok := old.(string); ok {
			return s
		}
		return by
	})
}
