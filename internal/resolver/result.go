package resolver

import (
	"net/netip"
	"time"
)

// Status is the three-way outcome of a lookup.
//
// The zero value is TempFail on purpose: a result that was never filled in
// (for instance because the lookup returned an error) must not read as a
// definite answer.
type Status uint8

const (
	// TempFail: no usable answer now; asking again later may work.
	TempFail Status = iota
	// Found: the name has records of the asked type.
	Found
	// NotFound: NXDOMAIN or NODATA (see Result.NXDomain).
	NotFound
)

func (s Status) String() string {
	switch s {
	case TempFail:
		return "tempfail"
	case Found:
		return "found"
	case NotFound:
		return "notfound"
	}
	return "invalid"
}

// Reason says why a lookup is TempFail.
type Reason uint8

const (
	ReasonNone        Reason = iota // not a TempFail
	ReasonTimeout                   // no reply within Timeout, on every attempt
	ReasonServFail                  // RCODE 2, SERVFAIL
	ReasonRefused                   // RCODE 5, REFUSED
	ReasonRcode                     // another RCODE that makes no sense for a query (FORMERR, NOTIMP...)
	ReasonNetwork                   // send/receive error other than a timeout (e.g. port unreachable)
	ReasonBadResponse               // reply malformed, not matching the question, or a CNAME loop
	ReasonCanceled                  // the caller's context ended before the answer came
	ReasonUnreachable               // no server has replied lately: failed at once (breaker.go)
)

func (r Reason) String() string {
	switch r {
	case ReasonNone:
		return ""
	case ReasonTimeout:
		return "timeout"
	case ReasonServFail:
		return "servfail"
	case ReasonRefused:
		return "refused"
	case ReasonRcode:
		return "bad rcode"
	case ReasonNetwork:
		return "network error"
	case ReasonBadResponse:
		return "bad response"
	case ReasonCanceled:
		return "canceled"
	case ReasonUnreachable:
		return "servers unreachable"
	}
	return "invalid"
}

// Result is what every lookup reports besides its records.
type Result struct {
	Status Status
	// NXDomain is set when Status is NotFound because the name does not
	// exist (RCODE 3); it is false for NODATA (the name exists, without
	// records of this type). After a CNAME it refers to the alias target.
	NXDomain bool
	// Rcode is the RCODE of the reply used, or -1 when no reply was used
	// (timeout, network error, canceled).
	Rcode int
	// Reason says why Status is TempFail; ReasonNone otherwise.
	Reason Reason
	// TTL is how much longer this answer may be relied upon (the remaining
	// cache lifetime); 0 when the answer was not cacheable.
	TTL time.Duration
	// Cached is set when the answer came from the cache.
	Cached bool
}

// MX is one mail exchanger. Host is lower-cased without the trailing dot,
// except the root, which is ".".
type MX struct {
	Host string
	Pref uint16
}

// MXResult is the answer to LookupMX. Records are sorted by preference.
type MXResult struct {
	Result
	Records []MX
	// Null is set when the domain publishes a null MX (RFC 7505 section 3):
	// exactly one MX, preference 0, exchange ".". It means the domain
	// accepts no mail at all.
	Null bool
}

// IPResult is the answer to LookupA, LookupAAAA and LookupIP.
type IPResult struct {
	Result
	Addrs []netip.Addr
	// Partial is set by LookupIP when addresses of one family were found
	// but the lookup of the other family failed temporarily. Checks that
	// need a specific family (forward-confirmed reverse DNS) should use
	// LookupA or LookupAAAA instead.
	Partial bool
}

// PTRResult is the answer to LookupPTR. Names are lower-cased without the
// trailing dot.
type PTRResult struct {
	Result
	Names []string
}

// TXTResult is the answer to LookupTXT: one string per TXT record, its
// character-strings concatenated (as RFC 7208 section 3.3 requires for SPF).
type TXTResult struct {
	Result
	Records []string
}
