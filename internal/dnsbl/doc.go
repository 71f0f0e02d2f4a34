// Package dnsbl scores an SMTP client's IP address against DNS blocklists
// and allowlists (DNSBL/DNSWL, "DNSxL" in RFC 5782), configured in the
// syntax of Postfix's postscreen_dnsbl_sites so that an existing Postfix
// configuration can be pasted as it is.
//
// # Configuration syntax
//
// Each entry is domain[=filter][*weight] (postconf(5),
// postscreen_dnsbl_sites; the filter grammar is Postfix's ip_match(3)):
//
//	zen.spamhaus.org*3                     any valid answer adds 3
//	b.barracudacentral.org=127.0.0.2*2     only the answer 127.0.0.2 adds 2
//	zen.spamhaus.org=127.0.0.[2..11]*3     a range in one octet
//	bl.mailspike.net=127.0.0.[10;11;12]*4  a ";"-separated sequence
//	list.dnswl.org=127.0.[0..255].[1..3]*-3  negative weight: allowlist
//
// The weight defaults to 1; an entry without filter counts any valid
// answer. One domain may be listed several times with different filters
// and weights: it is queried once, and each matching entry adds its weight
// once, however many answers it matches. ParseSite and ParseSites read
// entries and report errors with the entry text and the column.
//
// Postfix has no syntax for access keys (Spamhaus DQS, Abusix Mail
// Intelligence): the key is a label of the domain,
// "KEY.zen.dq.spamhaus.net", and postscreen_dnsbl_reply_map keeps it out
// of replies. Config.ReplyNames is that map; for the two services above the
// key label is hidden without one.
//
// # Lookups and score
//
// Checker.Score queries every distinct domain in parallel, through the
// shared caching resolver (package resolver), so a client that connects
// again within the TTL costs no query and concurrent requests for one
// client share one query per list. The query name is the client address
// reversed, octet by octet for IPv4 and nibble by nibble for IPv6, in
// front of the list's domain (RFC 5782 sections 2.1 and 2.4). A list that
// does not answer in time contributes 0 and is named in Result.TempFail:
// a slow list must neither block mail nor fail the request.
//
// The Checker also remembers each client's score, like postscreen's DNSBL
// cache: a clean score (every list answered usably) built from cached
// answers is returned again, without a lookup, until the first of those
// answers expires. A fixed table of 65 536 slots holds these, so a busy
// site's scores cost no more than the answers they came from.
//
// Only A records in 127.0.0.0/8 count (RFC 5782 section 2.1: that is where
// lists put their data, so that an answer can never be mistaken for a
// real host). Anything else is ignored and reported as a Problem: it is
// what a list whose domain has expired and been parked typically returns,
// and counting it would list everyone. Error codes are not data either:
// Spamhaus answers 127.255.255.254 to queries from public resolvers,
// 127.255.255.255 when the query volume is too high and 127.255.255.252
// for a mistyped list name, and reserves 127.255.255.0/24 for such errors;
// dnswl.org answers 127.0.0.255 when over its limit. Counting them as
// listings is a classic way to reject (or, for a DNSWL, allowlist) all
// mail, so they score 0 and are reported as a Problem of kind ErrorCode,
// with First set once per list so the caller can log a warning once: the
// receiver's resolver is blocked and the list protects nothing.
//
// # Replies
//
// Result.BlockedBy picks the list to name in the reply, the matching entry
// with the highest positive weight, as postscreen does; RejectText words
// the reply as postscreen does ("Service unavailable; client [ip] blocked
// using zen.spamhaus.org"), and Checker.Reason fetches the list's TXT
// record for it, on demand, sanitized for an SMTP reply. The code and texts
// live in the reply catalogue (internal/reply, DNSBL*); the check that
// sends them is internal/checks/dnsbl.
package dnsbl
