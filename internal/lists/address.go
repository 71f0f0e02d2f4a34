package lists

import (
	"io"
	"strings"
)

// Address length limits of RFC 5321 section 4.5.3.1; see Lookup.
const (
	maxLocalLen = 64
	maxAddrLen  = maxLocalLen + 1 + 255
)

// AddressList exempts envelope addresses: recipients (postgrey's
// postgrey_whitelist_recipients) or senders. It is immutable; build a new
// one to change it. The zero value and nil match nothing.
type AddressList struct {
	rules []addrRule
	// keys maps each non-regexp kind to its entries' normalised keys.
	keys [addrRegexp]map[string]int32
	res  []*listRegexp
}

// NewAddressList builds a list from entries given inline, e.g. in the
// configuration file. Errors name the entry's position as "inline:N".
func NewAddressList(entries []string) (*AddressList, error) {
	return newAddressList("inline", inlineLines(entries), nil)
}

// ParseAddressList reads a postgrey_whitelist_recipients style list; name
// is used in errors and in Entry.Source.
func ParseAddressList(name string, r io.Reader) (*AddressList, error) {
	var errs errorList
	lines, err := scanLines(name, r, &errs)
	if err != nil {
		return nil, err
	}
	return newAddressList(name, lines, &errs)
}

func newAddressList(source string, lines []line, errs *errorList) (*AddressList, error) {
	if errs == nil {
		errs = &errorList{}
	}
	rules := make([]addrRule, 0, len(lines))
	for _, ln := range lines {
		r, perr := parseAddrEntry(Entry{Text: ln.text, Source: source, Line: ln.no})
		if perr != nil {
			errs.add(perr)
			continue
		}
		rules = append(rules, r)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return buildAddressList(rules), nil
}

// MergeAddresses combines lists; for duplicate entries the earlier list's
// entry is the one reported. Nil lists are skipped.
func MergeAddresses(lists ...*AddressList) *AddressList {
	var rules []addrRule
	for _, l := range lists {
		if l != nil {
			rules = append(rules, l.rules...)
		}
	}
	return buildAddressList(rules)
}

func buildAddressList(rules []addrRule) *AddressList {
	l := &AddressList{rules: rules}
	for i, r := range rules {
		idx := int32(i)
		if r.kind == addrRegexp {
			re := *r.re
			re.idx = idx
			l.res = append(l.res, &re)
			continue
		}
		m := l.keys[r.kind]
		if m == nil {
			m = make(map[string]int32)
			l.keys[r.kind] = m
		}
		if _, dup := m[r.key]; !dup {
			m[r.key] = idx
		}
	}
	return l
}

// Len is the number of entries (duplicates included).
func (l *AddressList) Len() int {
	if l == nil {
		return 0
	}
	return len(l.rules)
}

// Match reports whether addr (an envelope address without <>) is exempt
// and which entry, as written, says so. Matching is case-insensitive.
func (l *AddressList) Match(addr string) (entry string, ok bool) {
	e, ok := l.Lookup(addr)
	return e.Text, ok
}

// Lookup is Match returning the entry together with where it came from.
// Exact addresses are tried first, then local parts, then domains (the
// longest suffix wins), then regexps in file order.
func (l *AddressList) Lookup(addr string) (Entry, bool) {
	// Longer addresses than SMTP allows (RFC 5321: 64-octet local part,
	// 255-octet domain) are not exempt: no real sender or recipient needs
	// it, and it bounds the cost of the regexps.
	if l == nil || addr == "" || len(addr) > maxAddrLen {
		return Entry{}, false
	}
	a := strings.ToLower(addr)
	if idx, ok := l.lookupKeys(a); ok {
		return l.rules[idx].entry, true
	}
	ascii := isASCII(a)
	for _, re := range l.res {
		if re.match(a, ascii) {
			return l.rules[re.idx].entry, true
		}
	}
	return Entry{}, false
}

// lookupKeys probes the maps; a is lower-case.
func (l *AddressList) lookupKeys(a string) (int32, bool) {
	// The domain is after the last '@': a quoted local part may contain
	// '@', a domain never does.
	local, domain := a, ""
	hasAt := false
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		local, domain, hasAt = a[:i], normName(a[i+1:]), true
	}
	full, locals := l.keys[addrFull], l.keys[addrLocal]
	// Candidates are local itself and, as in postgrey's user(?:\+[^@]+)?@,
	// each prefix cut at a '+' that leaves a non-empty user and extension
	// ("a+b+c" gives "a+b+c", "a+b", "a"): longest first, so the most
	// specific entry wins.
	for end := len(local); end > 0; end = strings.LastIndexByte(local[:end], '+') {
		if end == len(local)-1 {
			continue // "a+": an empty extension is not an extension
		}
		u := local[:end]
		if hasAt && full != nil {
			if idx, ok := full[u+"@"+domain]; ok {
				return idx, true
			}
		}
		// "postmaster@" also covers a bare "postmaster": RFC 5321 makes
		// servers accept that recipient without a domain.
		if idx, ok := locals[u]; ok {
			return idx, true
		}
	}
	if domain == "" {
		return 0, false
	}
	if idx, ok := l.keys[addrAtDomain][domain]; ok {
		return idx, true
	}
	doms, subs := l.keys[addrDomain], l.keys[addrSubdomains]
	if idx, ok := doms[domain]; ok {
		return idx, true
	}
	var idx int32
	found := parentDomains(domain, func(d string) bool {
		var ok bool
		if idx, ok = doms[d]; ok {
			return true
		}
		idx, ok = subs[d]
		return ok
	})
	return idx, found
}
