package lists

import (
	"io"
	"net/netip"
	"strings"
)

// maxNameLen is the longest DNS name (RFC 1035, without the root dot).
const maxNameLen = 253

// ClientList exempts SMTP clients by address and by verified hostname.
// It is immutable; build a new one to change it. The zero value and nil
// match nothing.
type ClientList struct {
	rules []clientRule
	ips   prefixIndex
	// names maps "example.com" entries; subs maps ".example.com" entries
	// (stored without the dot). Lookups walk up the client's labels.
	names map[string]int32
	subs  map[string]int32
	res   []*listRegexp
	// resByTLD holds the regexps whose literal suffix contains a dot, by
	// the suffix's last label (".telekom.de" under "de"): a name can only
	// match those of its own last label. resOther holds the rest. Both
	// keep file order. Most clients' names end in a label that no
	// regexp needs, so a miss skips every suffix test.
	resByTLD map[string][]*listRegexp
	resOther []*listRegexp
}

// NewClientList builds a list from entries given inline, e.g. in the
// configuration file. Errors name the entry's position as "inline:N".
func NewClientList(entries []string) (*ClientList, error) {
	return newClientList("inline", inlineLines(entries), nil)
}

// ParseClientList reads a postgrey_whitelist_clients style list; name is
// used in errors and in Entry.Source.
func ParseClientList(name string, r io.Reader) (*ClientList, error) {
	var errs errorList
	lines, err := scanLines(name, r, &errs)
	if err != nil {
		return nil, err
	}
	return newClientList(name, lines, &errs)
}

func newClientList(source string, lines []line, errs *errorList) (*ClientList, error) {
	if errs == nil {
		errs = &errorList{}
	}
	rules := make([]clientRule, 0, len(lines))
	for _, ln := range lines {
		r, perr := parseClientEntry(Entry{Text: ln.text, Source: source, Line: ln.no})
		if perr != nil {
			errs.add(perr)
			continue
		}
		rules = append(rules, r)
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return buildClientList(rules), nil
}

// MergeClients combines lists, e.g. the shipped defaults, the files named
// in the configuration and inline entries. When two lists hold the same
// address or name, the entry of the earlier list is the one reported.
// Nil lists are skipped.
func MergeClients(lists ...*ClientList) *ClientList {
	var rules []clientRule
	for _, l := range lists {
		if l != nil {
			rules = append(rules, l.rules...)
		}
	}
	return buildClientList(rules)
}

func buildClientList(rules []clientRule) *ClientList {
	l := &ClientList{rules: rules}
	var prefixes []netip.Prefix
	var prefixRules []int32
	for i, r := range rules {
		idx := int32(i)
		switch {
		case r.re != nil:
			re := *r.re
			re.idx = idx
			l.res = append(l.res, &re)
		case r.domain != "":
			m := &l.names
			if r.form == formSub {
				m = &l.subs
			}
			if *m == nil {
				*m = make(map[string]int32)
			}
			if _, dup := (*m)[r.domain]; !dup {
				(*m)[r.domain] = idx
			}
		default:
			prefixes = append(prefixes, r.prefix)
			prefixRules = append(prefixRules, idx)
		}
	}
	l.ips = buildPrefixIndex(prefixes, prefixRules)
	for _, re := range l.res {
		if k := strings.LastIndexByte(re.suffix, '.'); k >= 0 && k < len(re.suffix)-1 {
			if l.resByTLD == nil {
				l.resByTLD = make(map[string][]*listRegexp)
			}
			tld := re.suffix[k+1:]
			l.resByTLD[tld] = append(l.resByTLD[tld], re)
		} else {
			l.resOther = append(l.resOther, re)
		}
	}
	return l
}

// Len is the number of entries (duplicates included).
func (l *ClientList) Len() int {
	if l == nil {
		return 0
	}
	return len(l.rules)
}

// Match reports whether the client is exempt and which entry says so, as
// written, for logging. verifiedName must be Postfix's client_name (the
// forward-confirmed name), never reverse_client_name: a PTR record alone
// is controlled by whoever owns the address block, so matching it would
// let anyone exempt themselves. "unknown" and "" never match a name entry.
func (l *ClientList) Match(ip netip.Addr, verifiedName string) (entry string, ok bool) {
	e, ok := l.Lookup(ip, verifiedName)
	return e.Text, ok
}

// Lookup is Match returning the entry together with where it came from.
// Address entries are tried first (the most specific prefix wins), then
// names (the longest suffix wins), then regexps in file order.
func (l *ClientList) Lookup(ip netip.Addr, verifiedName string) (Entry, bool) {
	if l == nil {
		return Entry{}, false
	}
	if ip.IsValid() {
		if idx, ok := l.ips.lookup(normAddr(ip)); ok {
			return l.rules[idx].entry, true
		}
	}
	name := normName(verifiedName)
	// Postfix's placeholder for an unverified client never matches, and
	// neither does anything longer than a DNS name can be: it cannot be a
	// verified name, and it would only make the regexps slow.
	if name == "" || name == "unknown" || len(name) > maxNameLen {
		return Entry{}, false
	}
	if idx, ok := l.lookupName(name); ok {
		return l.rules[idx].entry, true
	}
	if re := l.matchRegexp(name); re != nil {
		return l.rules[re.idx].entry, true
	}
	return Entry{}, false
}

// matchRegexp returns the first regexp in file order that matches name.
// For an ASCII name only the regexps indexed under its last label and the
// unindexed ones can match (listRegexp.match's suffix shortcut, applied
// to the whole group at once); the two groups are merged by file order.
func (l *ClientList) matchRegexp(name string) *listRegexp {
	if !isASCII(name) {
		for _, re := range l.res {
			if re.match(name, false) {
				return re
			}
		}
		return nil
	}
	byTLD := l.resByTLD[name[strings.LastIndexByte(name, '.')+1:]]
	other := l.resOther
	for len(byTLD) > 0 || len(other) > 0 {
		var re *listRegexp
		if len(other) == 0 || (len(byTLD) > 0 && byTLD[0].idx < other[0].idx) {
			re, byTLD = byTLD[0], byTLD[1:]
		} else {
			re, other = other[0], other[1:]
		}
		if re.match(name, true) {
			return re
		}
	}
	return nil
}

// lookupName probes the name itself, then each parent domain: a map probe
// per label rather than a scan over all name entries.
func (l *ClientList) lookupName(name string) (int32, bool) {
	if idx, ok := l.names[name]; ok {
		return idx, true
	}
	var idx int32
	found := parentDomains(name, func(d string) bool {
		var ok bool
		if idx, ok = l.names[d]; ok {
			return true
		}
		idx, ok = l.subs[d]
		return ok
	})
	return idx, found
}
