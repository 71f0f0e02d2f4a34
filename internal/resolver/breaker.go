package resolver

import (
	"sync/atomic"
	"time"
)

// When every server has stopped answering (the MX's resolver crashed, a
// firewall change), each new name would wait Timeout×Attempts, and every
// policy request with a sender domain not yet cached would hold an smtpd
// process for seconds: throughput falls from thousands of requests a
// second to a handful. The breaker notices a run of lookups on which no
// server replied at all and then fails lookups at once (TempFail, reason
// "servers unreachable"), which the checks treat like any temporary DNS
// failure: they let the mail through, counted. One probe lookup at a time
// goes out to see whether the servers are back.
//
// SERVFAIL, REFUSED and other replies prove a server is alive: they never
// trip the breaker.
const (
	breakerTrips = 3               // consecutive lookups without any reply
	breakerOpen  = 5 * time.Second // fail fast this long before probing
)

type breaker struct {
	silent    atomic.Int32 // consecutive lookups on which no server replied
	openUntil atomic.Int64 // unix ns; 0 when closed
	probing   atomic.Bool
}

// allow reports whether a lookup may go to the servers now, and whether
// it is the probe (which must call done).
func (b *breaker) allow(now time.Time) (ok, probe bool) {
	until := b.openUntil.Load()
	if until == 0 {
		return true, false
	}
	if now.UnixNano() < until {
		return false, false
	}
	if b.probing.CompareAndSwap(false, true) {
		return true, true
	}
	return false, false
}

// done records a lookup's outcome: replied is false when every attempt
// timed out or failed on the network.
func (b *breaker) done(now time.Time, replied, probe bool) {
	if probe {
		defer b.probing.Store(false)
	}
	if replied {
		b.silent.Store(0)
		b.openUntil.Store(0)
		return
	}
	if b.silent.Add(1) >= breakerTrips || probe {
		b.openUntil.Store(now.Add(breakerOpen).UnixNano())
	}
}

// unreachable is the answer while the breaker is open. It is not cached:
// when the servers come back, every name resolves again at once.
var unreachable = &answer{status: TempFail, rcode: -1, reason: ReasonUnreachable}
