package greylist

import (
	"strings"
	"testing"
)

// FuzzNormalizeSender: never panics; normalising twice changes nothing
// more (one sender is one key); the domain survives for plain addresses.
func FuzzNormalizeSender(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		n := NormalizeSender(s)
		if strings.ToLower(n) != n {
			t.Fatalf("not lower case: %q -> %q", s, n)
		}
		if n2 := NormalizeSender(n); n2 != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, n, n2)
		}
		// exempt skips the unwrapped lookup for a sender that is not
		// wrapped: unwrapping must then give the same address back (the
		// lists compare without case).
		if u := unwrapSender(s); !wrapped(s) && !strings.EqualFold(u, s) {
			t.Fatalf("unwrapped %q to %q though it has no BATV/SRS wrapping", s, u)
		}
	})
}
