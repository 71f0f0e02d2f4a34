package lists

import (
	"strings"
	"unicode"
)

// addrKind is how an address entry matches.
type addrKind int

const (
	addrFull       addrKind = iota // user@domain
	addrLocal                      // user@
	addrAtDomain                   // @domain: exactly that domain
	addrDomain                     // domain: the domain and its subdomains
	addrSubdomains                 // .domain: subdomains only
	addrRegexp                     // /regexp/
)

// addrRule is one parsed address entry.
type addrRule struct {
	entry Entry
	kind  addrKind
	key   string // normalised lookup key; unused for regexps
	re    *listRegexp
}

// parseAddrEntry classifies one cleaned line following postgrey's
// read_recipients_whitelists (postfix access(5) syntax).
func parseAddrEntry(e Entry) (addrRule, *ParseError) {
	s := e.Text
	bad := func(reason string, err error) (addrRule, *ParseError) {
		return addrRule{}, &ParseError{Source: e.Source, Line: e.Line, Entry: s, Reason: reason, Err: err}
	}
	r := addrRule{entry: e}
	if isRegexpEntry(s) {
		re, why, err := compileEntry(s)
		if why != "" {
			return bad(why, err)
		}
		r.kind, r.re = addrRegexp, re
		return r, nil
	}
	if strings.ContainsFunc(s, unicode.IsSpace) {
		return bad("contains whitespace; write one entry per line", nil)
	}
	if strings.ContainsAny(s, "<>,;") {
		return bad("not a bare address (remove <>, and list one address per line)", nil)
	}
	user, domain, hasAt := strings.Cut(s, "@")
	if !hasAt {
		form, d, why := parseDomainEntry(s)
		if why != "" {
			return bad(why, nil)
		}
		r.kind, r.key = addrDomain, d
		if form == formSub {
			r.kind = addrSubdomains
		}
		return r, nil
	}
	if strings.Contains(domain, "@") {
		return bad("more than one '@'", nil)
	}
	if domain != "" {
		d := normName(domain)
		if why := checkHostname(d); why != "" {
			return bad("domain part: "+why, nil)
		}
		domain = d
	}
	if len(user) > maxLocalLen {
		// Lookup ignores addresses longer than SMTP allows, so such an
		// entry could never match.
		return bad("local part longer than 64 octets (RFC 5321)", nil)
	}
	user = strings.ToLower(user)
	switch {
	case user != "" && domain != "":
		r.kind, r.key = addrFull, user+"@"+domain
	case user != "":
		r.kind, r.key = addrLocal, user
	case domain != "":
		r.kind, r.key = addrAtDomain, domain
	default:
		return bad("neither local part nor domain", nil)
	}
	return r, nil
}
