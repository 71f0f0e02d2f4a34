package dnsbl

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Site is one entry of a postscreen_dnsbl_sites list:
//
//	domain[=filter][*weight]
//
// for example "zen.spamhaus.org*3", "b.barracudacentral.org=127.0.0.2*2" or
// "list.dnswl.org=127.0.[0..255].[1..3]*-3".
//
// The same domain may appear in several entries with different filters and
// weights; it is queried once and every entry whose filter matches adds its
// weight once (postconf(5), postscreen_dnsbl_sites: "When one
// postscreen_dnsbl_sites entry produces multiple DNSBL responses,
// postscreen(8) applies the weight at most once"). Identical entries count
// twice, as in Postfix.
type Site struct {
	// Domain is the DNSxL zone, lower-cased, without a trailing dot. For
	// lists that need an access key (Spamhaus DQS, Abusix) the key is a
	// label of the domain ("KEY.zen.dq.spamhaus.net"), exactly as in
	// Postfix; see Config.ReplyNames for keeping it out of replies.
	Domain string
	// Filter restricts the answers that count; nil means any valid answer
	// (in 127.0.0.0/8 and not an error code, see the package doc).
	Filter *Filter
	// Weight is added to the score when the entry matches; default 1.
	// Negative weights are allowlists (DNSWL).
	Weight int
}

// String returns the entry in canonical postscreen_dnsbl_sites form; the
// weight is omitted when it is 1. ParseSite(s.String()) gives s back.
func (s Site) String() string {
	var b strings.Builder
	b.WriteString(s.Domain)
	if s.Filter != nil {
		b.WriteByte('=')
		b.WriteString(s.Filter.String())
	}
	if s.Weight != 1 {
		b.WriteByte('*')
		b.WriteString(strconv.Itoa(s.Weight))
	}
	return b.String()
}

// SyntaxError is returned by ParseSite for an entry it cannot read.
type SyntaxError struct {
	Entry  string // the entry as given (outer white space removed)
	Offset int    // byte offset in Entry where the problem is
	Msg    string // what is wrong
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("dnsbl: site %q: %s", e.Entry, e.Msg)
}

// MaxWeight bounds the absolute value of a weight: far above any sensible
// score, and small enough that no sum of weights can overflow.
const MaxWeight = 1 << 20

// maxDomainLen keeps room for the longest query, an IPv6 address in
// nibble form (64 characters for 32 nibbles and their dots, plus
// "." before the zone is already counted), within the 253 characters of a
// domain name (RFC 1035 section 2.3.4, without the trailing dot).
const maxDomainLen = 253 - 64

// ParseSite parses one postscreen_dnsbl_sites entry, domain[=filter][*weight].
//
// As in Postfix (postscreen_dnsbl.c), the entry is first split at the first
// "*" (weight) and then at the first "=" (filter), so "zen*3=127.0.0.2" is
// a bad weight, not a filter. The weight is a decimal integer with an
// optional sign. See Filter for the filter syntax.
func ParseSite(entry string) (Site, error) {
	entry = strings.TrimSpace(entry)
	site := Site{Weight: 1}
	fail := func(off int, format string, args ...any) (Site, error) {
		return Site{}, &SyntaxError{Entry: entry, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	if entry == "" {
		return fail(0, "empty entry")
	}
	rest := entry
	if i := strings.IndexByte(rest, '*'); i >= 0 {
		w := rest[i+1:]
		rest = rest[:i]
		if w == "" {
			return fail(i+1, "missing weight after \"*\"")
		}
		n, err := strconv.ParseInt(w, 10, 64)
		if err != nil && !isRange(err) {
			return fail(i+1, "weight %q is not an integer", w)
		}
		if err != nil || n > MaxWeight || n < -MaxWeight {
			return fail(i+1, "weight %q is out of range -%d..%d", w, MaxWeight, MaxWeight)
		}
		site.Weight = int(n)
	}
	if i := strings.IndexByte(rest, '='); i >= 0 {
		f, perr := parseFilter(rest[i+1:], i+1)
		if perr != nil {
			return fail(perr.off, "%s (column %d)", perr.msg, perr.off+1)
		}
		site.Filter = f
		rest = rest[:i]
	}
	d, off, msg := checkDomain(rest)
	if msg != "" {
		return fail(off, "%s", msg)
	}
	site.Domain = d
	return site, nil
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

// ParseSites parses a list of entries separated by commas or white space,
// as postscreen_dnsbl_sites is written in main.cf. The first bad entry
// stops it.
func ParseSites(list string) ([]Site, error) {
	var sites []Site
	for _, e := range strings.FieldsFunc(list, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}) {
		s, err := ParseSite(e)
		if err != nil {
			return nil, err
		}
		sites = append(sites, s)
	}
	return sites, nil
}

// checkDomain validates a DNSxL zone name the way Postfix's
// valid_hostname() does (letters, digits, "-" and "_"; labels of 1 to 63
// characters that neither start nor end with "-"; not all-numeric, which
// would be an IP address) and returns it lower-cased without a trailing dot.
// On error it returns the offset of the problem and a message.
func checkDomain(d string) (string, int, string) {
	if d == "" {
		return "", 0, "missing DNSBL domain"
	}
	name := strings.TrimSuffix(d, ".")
	if name == "" {
		return "", 0, fmt.Sprintf("domain %q is the root", d)
	}
	if len(name) > maxDomainLen {
		return "", maxDomainLen, fmt.Sprintf("domain is %d characters long, at most %d leave room for an IPv6 query", len(name), maxDomainLen)
	}
	start, digitsOnly := 0, true
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			label := name[start:i]
			switch {
			case label == "":
				return "", i, fmt.Sprintf("domain %q has an empty label (column %d)", d, i+1)
			case len(label) > 63:
				return "", start, fmt.Sprintf("domain %q has a label longer than 63 characters (column %d)", d, start+1)
			case label[0] == '-' || label[len(label)-1] == '-':
				return "", start, fmt.Sprintf("domain %q has a label that starts or ends with \"-\" (column %d)", d, start+1)
			}
			if i == len(name) && digitsOnly {
				return "", start, fmt.Sprintf("domain %q is numeric: an IP address is not a DNSBL domain", d)
			}
			start, digitsOnly = i+1, true
			continue
		}
		c := name[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-', c == '_':
			digitsOnly = false
		default:
			return "", i, fmt.Sprintf("domain %q: invalid character %s (column %d)", d, strconv.QuoteRune(rune(c)), i+1)
		}
	}
	return strings.ToLower(name), 0, ""
}

// weightSum adds weights; MaxWeight keeps it far from overflow for any
// realistic number of entries, but clamp anyway.
func weightSum(a, b int) int {
	s := int64(a) + int64(b)
	switch {
	case s > math.MaxInt32:
		return math.MaxInt32
	case s < math.MinInt32:
		return math.MinInt32
	}
	return int(s)
}
