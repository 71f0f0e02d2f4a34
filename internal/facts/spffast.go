package facts

import (
	"context"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"time"

	"blitiri.com.ar/go/spf"

	"github.com/tempfail/tempfail/internal/resolver"
)

// The fast path of SPF. Most senders publish records that need no lookup
// beyond the record itself: "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all".
// blitiri.com.ar/go/spf evaluates every record from its text on every call
// (splitting, lower-casing, regular expressions, parsing every address),
// which is most of the cost of a policy request once the DNS answers are
// cached. Here a record is compiled once (bounded cache keyed by its text)
// into its terms, parsed with the same functions the library uses
// (net.ParseCIDR, net.ParseIP), and evaluated against the client without
// allocating. Only what the library does identically is handled: ip4, ip6
// and all, with qualifiers, the version and modifiers it ignores. Any term
// that needs a lookup or is anything else (include, a, mx, ptr, exists,
// redirect, unknown terms) hands the whole evaluation to the library, from
// the start. TestSPFFastPathMatchesLibrary compares the two.

type termKind uint8

const (
	termAll termKind = iota
	termCIDR
	termIP
	termPermError // a term the library answers permerror for
	termLibrary   // anything else: let the library evaluate
)

type spfTerm struct {
	kind   termKind
	result spf.Result // the qualifier's result; for termPermError the error text in why
	ipnet  *net.IPNet
	ip     net.IP
	why    string
}

// compiledSPF is one record's terms, in order.
type compiledSPF struct {
	terms []spfTerm
}

// Same as the library's (spf.go, modifierRegexp and qualToResult).
var (
	spfModifier = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9._-]*=`)
	spfQual     = map[byte]spf.Result{'+': spf.Pass, '-': spf.Fail, '~': spf.SoftFail, '?': spf.Neutral}
)

func compileSPF(txt string) *compiledSPF {
	c := &compiledSPF{}
	fields := strings.Split(txt, " ")
	for _, f := range fields {
		if isModifierNamed(f, "redirect") {
			// The library moves redirect to the end and follows it.
			return &compiledSPF{terms: []spfTerm{{kind: termLibrary}}}
		}
	}
	for _, field := range fields {
		if field == "" || strings.HasPrefix(field, "v=") || strings.HasPrefix(field, "V=") {
			continue
		}
		if spfModifier.MatchString(field) {
			// exp= and unknown modifiers: ignored by the library (no
			// mechanism name is followed by "=").
			continue
		}
		result, ok := spfQual[field[0]]
		if ok {
			field = field[1:]
		} else {
			result = spf.Pass
		}
		lfield := strings.ToLower(field)
		switch {
		case lfield == "all":
			c.terms = append(c.terms, spfTerm{kind: termAll, result: result, why: spf.ErrMatchedAll.Error()})
			return c // nothing after "all" is ever looked at
		case strings.HasPrefix(lfield, "ip4:") || strings.HasPrefix(lfield, "ip6:"):
			fip := field[4:]
			if strings.Contains(fip, "/") {
				_, ipnet, err := net.ParseCIDR(fip)
				if err != nil {
					c.terms = append(c.terms, spfTerm{kind: termPermError, result: spf.PermError, why: spf.ErrInvalidMask.Error()})
					return c
				}
				c.terms = append(c.terms, spfTerm{kind: termCIDR, result: result, ipnet: ipnet, why: spf.ErrMatchedIP.Error()})
			} else {
				ip := net.ParseIP(fip)
				if ip == nil {
					c.terms = append(c.terms, spfTerm{kind: termPermError, result: spf.PermError, why: spf.ErrInvalidIP.Error()})
					return c
				}
				c.terms = append(c.terms, spfTerm{kind: termIP, result: result, ip: ip, why: spf.ErrMatchedIP.Error()})
			}
		default:
			c.terms = append(c.terms, spfTerm{kind: termLibrary})
			return c
		}
	}
	return c
}

// isModifierNamed is the library's isNamedModifier.
func isModifierNamed(field, name string) bool {
	return len(field) > len(name) && field[len(name)] == '=' && strings.EqualFold(field[:len(name)], name)
}

// eval returns the result for ip, or ok=false when the library must
// evaluate the record.
func (c *compiledSPF) eval(ip netip.Addr) (res spf.Result, why string, ok bool) {
	var buf [16]byte
	var nip net.IP
	if ip.Is4() {
		a := ip.As4()
		copy(buf[:4], a[:])
		nip = buf[:4]
	} else {
		buf = ip.As16()
		nip = buf[:]
	}
	for i := range c.terms {
		t := &c.terms[i]
		switch t.kind {
		case termAll, termPermError:
			return t.result, t.why, true
		case termCIDR:
			if t.ipnet.Contains(nip) {
				return t.result, t.why, true
			}
		case termIP:
			if t.ip.Equal(nip) {
				return t.result, t.why, true
			}
		default:
			return "", "", false
		}
	}
	// The end without a match: neutral (RFC 7208 section 4.7).
	return spf.Neutral, "", true
}

// spfRecords caches compiled records by their text.
var spfRecords = struct {
	sync.RWMutex
	m map[string]*compiledSPF
}{m: map[string]*compiledSPF{}}

const maxCompiledSPF = 4096

func compiled(txt string) *compiledSPF {
	spfRecords.RLock()
	c := spfRecords.m[txt]
	spfRecords.RUnlock()
	if c != nil {
		return c
	}
	c = compileSPF(txt)
	spfRecords.Lock()
	if len(spfRecords.m) >= maxCompiledSPF {
		spfRecords.m = make(map[string]*compiledSPF, maxCompiledSPF)
	}
	spfRecords.m[txt] = c
	spfRecords.Unlock()
	return c
}

// fastSPF evaluates domain's record for ip when the fast path can: the
// TXT answer is found and holds exactly one SPF record (the library's
// getDNSRecord) of the simple kind. ttl is the TXT answer's.
func fastSPF(ctx context.Context, r *resolver.Resolver, ip netip.Addr, domain string) (res spf.Result, why string, ttl time.Duration, ok bool) {
	txt, err := r.LookupTXT(ctx, domain)
	if err != nil || txt.Status != resolver.Found {
		return "", "", 0, false
	}
	record, n := "", 0
	for _, t := range txt.Records {
		if len(t) >= 6 && asciiLowerIs(t[:6], "v=spf1") && (len(t) == 6 || t[6] == ' ') {
			record = t
			n++
		}
	}
	if n != 1 {
		return "", "", 0, false
	}
	res, why, ok = compiled(record).eval(ip)
	return res, why, txt.TTL, ok
}

// asciiLowerIs reports whether s lower-cased (ASCII) is lower.
func asciiLowerIs(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
