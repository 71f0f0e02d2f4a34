// Package resolver is the one DNS client used by every DNS-based check of
// tempfail (sender domain, reverse DNS, SPF, DNSBL/DNSWL) and by probe.
//
// It talks to recursive resolvers (the system's, from resolv.conf, unless
// configured otherwise) with github.com/miekg/dns, caches answers, and turns
// every lookup into exactly one of three outcomes:
//
//   - [Found]: the name has records of the asked type;
//   - [NotFound]: the name does not exist (NXDOMAIN, RCODE 3) or exists
//     without records of that type (NODATA, RFC 2308 section 2.2); the
//     NXDomain field tells which, because a sender domain that does not exist
//     is a different finding from one that has no MX;
//   - [TempFail]: no usable answer: timeout, SERVFAIL, REFUSED, another
//     unexpected RCODE, a network error, a reply that does not match the
//     question, or the caller's context ending first. Reason says which.
//
// Policy decisions hang on this distinction: NotFound may justify a 4xx/5xx
// reply, TempFail must not defer good mail for long, so by default the checks
// let it pass and count it.
//
// # Errors
//
// Lookup methods return a non-nil error only when the caller misuses them
// (an invalid domain name or IP address: [ErrInvalidName], [ErrInvalidAddr]).
// DNS trouble is never an error: it is Status TempFail with a Reason. When
// the error is non-nil the result is the zero value, whose Status is
// TempFail, so code that ignores the error still fails safe.
//
// # Standards
//
//   - RFC 1035 (domain names, messages, RCODEs; section 7 on resolver
//     behaviour): questions are sent with RD set because we talk to a
//     recursive resolver, replies must echo our question (name, type, class)
//     and ID or they are discarded, CNAME chains in the answer section are
//     followed, and names are compared case-insensitively.
//   - RFC 2308 (negative caching): NXDOMAIN and NODATA answers are cached for
//     min(SOA TTL, SOA MINIMUM) taken from the authority section, capped by
//     Config.NegativeTTL; a negative answer without SOA is not cached
//     (section 5). Section 7 allows caching server failures for up to five
//     minutes: SERVFAIL, REFUSED and timeouts are cached for
//     Config.ServFailTTL (default 30 s) so that a burst of mail from a
//     domain with broken DNS does not wait for the network again and again.
//   - RFC 6891 (EDNS0): queries advertise a 1232-byte UDP payload (the size
//     recommended by DNS Flag Day 2020 to avoid IP fragmentation); a
//     truncated (TC) reply is retried over TCP (RFC 7766); a FORMERR or
//     NOTIMP reply to an EDNS query is retried once without EDNS (section 7).
//   - RFC 7505 (null MX): a single MX with preference 0 and exchange "." means
//     the domain accepts no mail; MXResult.Null reports it.
//
// # Caching and coalescing
//
// Answers are cached by (lower-cased name, type) in a bounded cache with
// CLOCK eviction (a cheap approximation of LRU whose hits take only a read
// lock). Identical lookups in flight at the same time share one query, so a
// burst of requests from one client costs one query per name and type. The
// shared query runs detached from any single caller's context (bounded by
// Timeout per attempt), so a caller that gives up gets TempFail with
// ReasonCanceled at once while the answer is still fetched and cached for
// the next one.
//
// Returned slices are fresh copies: callers may keep and modify them.
package resolver
