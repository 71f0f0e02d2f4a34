// Package facts computes the DNS facts of one policy request, lazily and at
// most once, and shares them between every check (design brief: "shared
// per-request Facts, computed lazily once: reverse DNS, SPF result, DNSBL
// score, risk").
//
// A [Source] is long-lived (built by the daemon around the one
// [resolver.Resolver]); a [Set] lives in engine.Facts, one per request, and
// asks the Source only when a check wants a fact:
//
//   - [Set.ReverseDNS]: the client's reverse DNS, forward-confirmed. Postfix's
//     client_name (verified) is used when it names a host; when Postfix says
//     "unknown", or sent no names (milter, proxy, tempfail query), the PTR and
//     forward lookups are done here, because Postfix's "unknown" does not tell
//     a missing PTR from a temporary DNS failure, and a temporary failure must
//     never be treated as "no reverse DNS".
//   - [Set.SenderDomain]: does the envelope sender's domain exist as a mail
//     domain: MX, else A/AAAA (RFC 5321 section 5.1), or a null MX (RFC 7505).
//   - [Set.SPF]: the SPF result (RFC 7208) for MAIL FROM, or for the HELO
//     identity when the sender is null (section 2.3), through
//     blitiri.com.ar/go/spf with our resolver. Computed once per SMTP
//     transaction and reused within the records' TTL: results are cached
//     by exactly (client, HELO, sender) for the shortest TTL of the answers
//     used (spfcache.go), and the common records made of ip4/ip6/all only
//     are evaluated by a compiled fast path with the library's exact
//     results (spffast.go).
//   - [Set.DNSBL]: the client's DNSBL/DNSWL score, from internal/dnsbl
//     (Source.DNSBL, built from [dnsbl] by the daemon); zero until lists
//     are configured. [Set.DNSBLReason] fetches a list's TXT reason for a
//     reply.
//   - [Set.Risk]: a small additive score of the signals above, for
//     risk-based greylisting.
//
// # Time budget
//
// DNS waits on the request's context, but with a reserve: lookups started
// by facts give up [Reserve] before the request's deadline (at most a
// quarter of the time left), so a resolver that never answers turns into a
// TempFail fact while the later checks (greylisting on the store) still
// run in time. A TempFail fact never rejects or defers by default: every
// check lets it pass and counts it.
//
// # Organisational domain
//
// [OrgDomain] is a heuristic, not the Public Suffix List: the last two
// labels, or three when the last two are a known second-level public
// suffix (co.uk, com.au, ...; see orgdomain.go). It errs towards grouping
// too little for unlisted suffixes (e.g. it returns "city.state.us"-style
// names as their last two labels), which is safe for its one use, the
// greylisting key: grouping too little only means one more delay.
package facts
