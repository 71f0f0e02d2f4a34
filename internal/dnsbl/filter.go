package dnsbl

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Filter is the "=filter" part of a site entry: a pattern that a DNSBL
// answer must match for the entry's weight to count. It has the syntax of
// Postfix's IPv4 address patterns (ip_match(3), used by postscreen(8) and
// reject_rbl_client):
//
//	filter   = field "." field "." field "." field | "[" filter "]"
//	field    = octet | "[" sequence "]"
//	sequence = member | sequence ";" member
//	member   = octet | octet ".." octet
//	octet    = decimal number 0 through 255
//
// For example 127.0.0.2, 127.0.0.[2..11] or 127.0.[0..255].[1;3].
//
// Postfix has no negation ("[!1;2]" or "~") and, since 2.8 was released,
// separates sequence members with ";" rather than "," (a "," would split
// the main.cf list); both are rejected here with an explanation rather than
// silently read differently.
type Filter struct {
	fields [4]field
}

// field is one octet of a pattern: the members as written (for String) and
// the set of values they match, as a 256-bit bitmap so that matching costs
// one shift and mask per octet.
type field struct {
	members  []member
	set      [4]uint64
	brackets bool // written inside [] (kept by String)
}

type member struct{ lo, hi uint8 }

func (f *field) add(lo, hi uint8) {
	f.members = append(f.members, member{lo, hi})
	for v := int(lo); v <= int(hi); v++ {
		f.set[v>>6] |= 1 << (v & 63)
	}
}

func (f *field) has(v uint8) bool { return f.set[v>>6]&(1<<(v&63)) != 0 }

// Match reports whether a, an IPv4 address, matches the filter. IPv6
// addresses never match: DNSBL answers are A records.
func (f *Filter) Match(a netip.Addr) bool {
	a = a.Unmap()
	if !a.Is4() {
		return false
	}
	b := a.As4()
	for i := range f.fields {
		if !f.fields[i].has(b[i]) {
			return false
		}
	}
	return true
}

// String returns the filter in canonical form: numbers without leading
// zeros, outer brackets around the whole pattern removed.
func (f *Filter) String() string {
	var b strings.Builder
	for i, fl := range f.fields {
		if i > 0 {
			b.WriteByte('.')
		}
		if !fl.brackets {
			b.WriteString(strconv.Itoa(int(fl.members[0].lo)))
			continue
		}
		b.WriteByte('[')
		for j, m := range fl.members {
			if j > 0 {
				b.WriteByte(';')
			}
			b.WriteString(strconv.Itoa(int(m.lo)))
			if m.hi != m.lo {
				b.WriteString("..")
				b.WriteString(strconv.Itoa(int(m.hi)))
			}
		}
		b.WriteByte(']')
	}
	return b.String()
}

// parseFilter parses pattern, which starts at byte offset base of the site
// entry (for error positions).
func parseFilter(pattern string, base int) (*Filter, *posError) {
	if pattern == "" {
		return nil, &posError{base, "empty filter after \"=\""}
	}
	// Postfix strips "[]" around the entire pattern ("[127.0.0.2]").
	if pattern[0] == '[' && closing(pattern) == len(pattern)-1 {
		pattern = pattern[1 : len(pattern)-1]
		base++
	}
	p := filterParser{s: pattern, base: base}
	f := new(Filter)
	for n := range 4 {
		if n > 0 {
			if p.eof() {
				return nil, p.errf("filter %q has %d fields, need 4 (d.d.d.d)", pattern, n)
			}
			if p.peek() != '.' {
				return nil, p.errf("need \".\" between filter fields, found %s", p.what())
			}
			p.i++
		}
		if err := p.field(&f.fields[n]); err != nil {
			return nil, err
		}
	}
	if !p.eof() {
		return nil, p.errf("garbage after the 4th filter field: %q", p.s[p.i:])
	}
	return f, nil
}

// closing returns the index of the "]" that closes the "[" at s[0], or -1.
func closing(s string) int {
	level := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '[':
			level++
		case ']':
			level--
			if level == 0 {
				return i
			}
		}
	}
	return -1
}

type filterParser struct {
	s    string
	i    int
	base int
}

// posError is a message about the byte at Offset of the entry.
type posError struct {
	off int
	msg string
}

func (p *filterParser) errf(format string, args ...any) *posError {
	return &posError{p.base + p.i, fmt.Sprintf(format, args...)}
}

func (p *filterParser) eof() bool  { return p.i >= len(p.s) }
func (p *filterParser) peek() byte { return p.s[p.i] }

// what describes the next input for an error message.
func (p *filterParser) what() string {
	if p.eof() {
		return "end of filter"
	}
	return strconv.QuoteRune(rune(p.s[p.i]))
}

func (p *filterParser) field(f *field) *posError {
	if p.eof() {
		return p.errf("need a number 0..255 or \"[\", found end of filter")
	}
	if p.peek() != '[' {
		v, err := p.octet()
		if err != nil {
			return err
		}
		f.add(v, v)
		return nil
	}
	open := p.i
	p.i++
	f.brackets = true
	for {
		at := p.i
		lo, err := p.octet()
		if err != nil {
			return err
		}
		hi := lo
		if strings.HasPrefix(p.s[p.i:], "..") {
			p.i += 2
			if hi, err = p.octet(); err != nil {
				return err
			}
			if hi < lo {
				return &posError{p.base + at, fmt.Sprintf("range %d..%d is reversed (need low..high)", lo, hi)}
			}
		}
		f.add(lo, hi)
		if p.eof() {
			return &posError{p.base + open, "\"[\" without closing \"]\""}
		}
		switch c := p.peek(); c {
		case ';':
			p.i++
		case ']':
			p.i++
			return nil
		case ',':
			return p.errf("\",\" inside [] is the pre-2.8 Postfix syntax: separate numbers with \";\" (for example [2;4..6])")
		case '.':
			return p.errf("need \";\" or \"]\", found \".\" (a range is low..high, and [] cannot span fields)")
		default:
			return p.errf("need \";\" or \"]\", found %s", p.what())
		}
	}
}

func (p *filterParser) octet() (uint8, *posError) {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i == start {
		switch {
		case p.eof():
			return 0, p.errf("need a number 0..255, found end of filter")
		case p.peek() == '!' || p.peek() == '~' || p.peek() == '^':
			return 0, p.errf("negation %s is not supported (Postfix has none): list the values to match instead", p.what())
		default:
			return 0, p.errf("need a number 0..255, found %s", p.what())
		}
	}
	v, err := strconv.ParseUint(p.s[start:p.i], 10, 8)
	if err != nil {
		return 0, &posError{p.base + start, fmt.Sprintf("number %s is out of range 0..255", p.s[start:p.i])}
	}
	return uint8(v), nil
}
