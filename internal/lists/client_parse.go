package lists

import (
	"net/netip"
	"strconv"
	"strings"
	"unicode"
)

// clientRule is one parsed client entry. Exactly one of the kinds is set.
type clientRule struct {
	entry  Entry
	prefix netip.Prefix // address, CIDR or partial IPv4
	form   domainForm   // for domain entries
	domain string       // normalised domain, for name entries
	re     *listRegexp  // for /regexp/ entries
}

// parseClientEntry classifies one cleaned line. The order mirrors
// postgrey's read_clients_whitelists: regexp, IPv4 (full or partial),
// IPv6, CIDR, and everything else is a host or domain name.
func parseClientEntry(e Entry) (clientRule, *ParseError) {
	s := e.Text
	bad := func(reason string, err error) (clientRule, *ParseError) {
		return clientRule{}, &ParseError{Source: e.Source, Line: e.Line, Entry: s, Reason: reason, Err: err}
	}
	r := clientRule{entry: e}
	switch {
	case isRegexpEntry(s):
		re, why, err := compileEntry(s)
		if why != "" {
			return bad(why, err)
		}
		r.re = re
	case strings.ContainsAny(s, ":/"):
		p, why := parseIPEntry(s)
		if why != "" {
			return bad(why, nil)
		}
		r.prefix = p
	case isDigitsAndDots(s):
		p, why := parsePartialIPv4(s)
		if why != "" {
			return bad(why, nil)
		}
		r.prefix = p
	default:
		if strings.ContainsFunc(s, unicode.IsSpace) {
			return bad("contains whitespace; write one entry per line", nil)
		}
		form, d, why := parseDomainEntry(s)
		if why != "" {
			return bad(why, nil)
		}
		r.form, r.domain = form, d
	}
	return r, nil
}

// parseIPEntry parses an IPv6 address, or an IPv4/IPv6 CIDR prefix.
func parseIPEntry(s string) (netip.Prefix, string) {
	if strings.ContainsRune(s, '%') {
		return netip.Prefix{}, "zoned (link-local %interface) addresses are not supported"
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, "not an IP address: " + trimNetipErr(err)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), ""
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, "not an IP address or CIDR prefix: " + trimNetipErr(err)
	}
	if p.Bits() == 0 {
		return netip.Prefix{}, "a /0 prefix would exempt every client"
	}
	return normPrefix(p), ""
}

// trimNetipErr drops netip's echo of the input, which our message already
// quotes.
func trimNetipErr(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "): "); i >= 0 {
		return msg[i+3:]
	}
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// parsePartialIPv4 accepts postgrey's IPv4 forms: a full address, or one
// to three leading octets with an optional trailing dot, meaning the /8,
// /16 or /24 network ("10", "10.", "1.2.3").
func parsePartialIPv4(s string) (netip.Prefix, string) {
	trimmed := strings.TrimSuffix(s, ".")
	parts := strings.Split(trimmed, ".")
	if len(parts) > 4 || (len(parts) == 4 && trimmed != s) {
		return netip.Prefix{}, "not an IPv4 address: too many octets"
	}
	var b [4]byte
	for i, p := range parts {
		if p == "" {
			return netip.Prefix{}, "not an IPv4 address: empty octet"
		}
		if len(p) > 1 && p[0] == '0' {
			return netip.Prefix{}, "not an IPv4 address: octet " + strconv.Quote(p) + " has a leading zero"
		}
		n, err := strconv.Atoi(p)
		if err != nil || n > 255 {
			return netip.Prefix{}, "not an IPv4 address: octet " + strconv.Quote(p) + " is out of range"
		}
		b[i] = byte(n)
	}
	return netip.PrefixFrom(netip.AddrFrom4(b), 8*len(parts)), ""
}

// isDigitsAndDots reports whether s looks like (part of) an IPv4 address.
// No top-level domain is all digits, so such an entry is never a name.
func isDigitsAndDots(s string) bool {
	digit := false
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] >= '0' && s[i] <= '9':
			digit = true
		case s[i] != '.':
			return false
		}
	}
	return digit
}
