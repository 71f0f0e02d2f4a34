// Package lists holds the exemption lists that the greylisting check (and
// later checks) consult: clients that are never greylisted, and recipient or
// sender addresses that are never greylisted.
//
// The file formats are postgrey's, so postgrey_whitelist_clients and
// postgrey_whitelist_recipients files load unchanged. Lists are immutable
// once built: on SIGHUP the caller builds new lists and swaps them in
// atomically, so nothing in here locks. A nil list matches nothing.
//
// # Common syntax
//
// One entry per line. Everything from '#' to the end of the line is a
// comment (as in postgrey, even inside a /regexp/). Leading and trailing
// whitespace and blank lines are ignored. Parse errors read
// "path:LINE: invalid entry "…": reason"; every bad line is reported, not
// only the first.
//
// # Client lists
//
//	192.0.2.1                  one address (IPv6 too: 2001:db8::1)
//	192.0.2.0/24               CIDR prefix, IPv4 or IPv6 (host bits are masked off)
//	1.2.3                      postgrey's partial IPv4: 1.2.3.0/24
//	10.                        10.0.0.0/8 (so is "10"; "10.1" is 10.1.0.0/16)
//	example.com                example.com and every host below it
//	.example.com               only hosts below example.com (also "*.example.com")
//	/^mail\d+\.example\.net$/  RE2 regexp on the hostname, case-insensitive
//
// Hostname and regexp entries are matched only against Postfix's verified
// client_name, never against reverse_client_name: whoever controls a
// reverse DNS zone controls the PTR name, but the verified name also needs
// a matching forward lookup. "unknown", empty names and names longer than
// DNS allows (253 octets) never match.
//
// Differences from postgrey, all deliberate:
//   - postgrey matches IP entries as text prefixes of the address
//     (^1\.2\.3\b); here they are parsed into CIDR prefixes, which has
//     the same effect for IPv4 and makes IPv6 entries mean what they say
//     in any spelling (2001:db8::1 = 2001:0db8:0::1).
//   - ".example.com" in postgrey matches nothing (it becomes
//     "..example.com"); here it means "subdomains only".
//   - Entries postgrey silently ignores or never matches (bad CIDRs,
//     "999.1.1.1", whitespace in a name) are errors here, and so are
//     single-label names ("com" would exempt a whole TLD; this also
//     rejects "unknown") and "/0" prefixes.
//   - A "*.example.com" entry means ".example.com"; postgrey would have
//     looked for a literal '*' and never matched.
//   - A missing list file is an error (LoadClientFiles); postgrey warns
//     and, for *.local files, stays silent.
//
// # Address lists (recipients, senders)
//
//	postmaster@example.com  exactly that address, plus postmaster+ext@example.com
//	postmaster@             that local part at any domain (+ext too), and the
//	                        bare, domain-less "postmaster" RFC 5321 requires
//	@example.com            any address at exactly example.com (access(5) style)
//	example.com             any address at example.com or any subdomain of it
//	.example.com            any address at a subdomain of example.com only
//	/^bounce-.*@example\./  RE2 regexp on the whole address, case-insensitive
//
// These follow postgrey's read_recipients_whitelists: a bare domain there
// compiles to (?:@|\.)domain$, i.e. the domain and its subdomains, and
// user@ / user@domain also accept a "+extension". All matching is
// case-insensitive. The null sender (empty address) and addresses longer
// than RFC 5321 allows (320 octets) never match; entries with a local
// part over 64 octets are rejected, as they could never match.
//
// Further differences from postgrey: "@example.com" (postfix access(5)
// syntax) is supported, where postgrey's pattern matched nothing; and
// "postmaster@" also matches the bare "postmaster".
package lists
