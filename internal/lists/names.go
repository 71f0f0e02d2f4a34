package lists

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// domainForm is how a name entry matches.
type domainForm int

const (
	// formSelf matches the name and every name below it ("example.com").
	formSelf domainForm = iota
	// formSub matches only names below it (".example.com", "*.example.com").
	formSub
)

// parseDomainEntry splits a hostname/domain entry into its form and the
// normalised (lower-case, no trailing dot) domain, or explains what is
// wrong with it.
func parseDomainEntry(s string) (domainForm, string, string) {
	form := formSelf
	switch {
	case strings.HasPrefix(s, "*."):
		form, s = formSub, s[2:]
	case strings.HasPrefix(s, "."):
		form, s = formSub, s[1:]
	}
	d := normName(s)
	if reason := checkHostname(d); reason != "" {
		return form, "", reason
	}
	if !strings.Contains(d, ".") {
		return form, "", "single-label name would match a whole top-level domain; write the full domain"
	}
	return form, d, ""
}

// normName lower-cases a DNS name and drops the root dot, so that
// "Mail.Example.COM." and "mail.example.com" are the same key.
func normName(s string) string {
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

// checkHostname returns why d (already normalised) is not a usable DNS
// name, or "". Underscores are tolerated: they occur in real PTR names.
func checkHostname(d string) string {
	if d == "" {
		return "empty name"
	}
	if len(d) > 253 {
		return "name longer than 253 characters"
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" {
			return "empty label (\"..\")"
		}
		if len(label) > 63 {
			return "label longer than 63 characters"
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			switch {
			case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			case c == '*':
				return "wildcards are only allowed as a leading \"*.\""
			case c >= utf8.RuneSelf:
				return "non-ASCII name; write internationalised names in their xn-- form"
			default:
				return "character " + strconv.QuoteRune(rune(c)) + " is not allowed in a host name"
			}
		}
	}
	return ""
}

// parentDomains calls f with each proper parent of name, nearest first:
// "a.b.c" gives "b.c", then "c". It stops when f returns true.
func parentDomains(name string, f func(string) bool) bool {
	for {
		i := strings.IndexByte(name, '.')
		if i < 0 {
			return false
		}
		name = name[i+1:]
		if f(name) {
			return true
		}
	}
}

// isASCII reports whether s has no multi-byte characters.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
