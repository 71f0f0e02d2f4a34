package explain

import (
	"regexp"
	"sort"
	"strings"
	"sync"
)

// scratch is the per-call working memory of a match, pooled so a match
// allocates nearly nothing.
type scratch struct {
	seen  []uint64
	found []int32
	cand  []int32
	// codeSeen/codeFound: the separate scan of the enhanced code for
	// provider keywords (providerByCode).
	codeSeen  []uint64
	codeFound []int32
}

var scratchPool sync.Pool

func (rs *Rules) getScratch() *scratch {
	if v := scratchPool.Get(); v != nil {
		s := v.(*scratch)
		if len(s.seen) >= (rs.nkw+63)/64 {
			return s
		}
	}
	n := (rs.nkw+63)/64 + 1
	return &scratch{seen: make([]uint64, n), codeSeen: make([]uint64, n)}
}

func (rs *Rules) putScratch(s *scratch) {
	for _, id := range s.found {
		s.seen[id>>6] = 0
	}
	for _, id := range s.codeFound {
		s.codeSeen[id>>6] = 0
	}
	s.found, s.cand, s.codeFound = s.found[:0], s.cand[:0], s.codeFound[:0]
	scratchPool.Put(s)
}

// hit is the outcome of matching: the winning rule (nil when none) and the
// regex captures of that rule, plus the provider recognised by keyword.
type hit struct {
	rule     *rule
	caps     map[string]string
	provider string
}

// match finds the first rule, in precedence order, whose conditions all
// hold. Precedence is priority (higher first), then order in the file:
// deterministic, and a contributor can read it off the file.
func (rs *Rules) match(p *Parsed, text string) hit {
	sc := rs.getScratch()
	defer rs.putScratch(sc)
	sc.found = rs.ac.scan(text, sc.seen, sc.found)
	var h hit
	for _, pr := range rs.providers {
		if anySeen(sc.seen, pr.any) {
			h.provider = pr.name
			break
		}
	}
	if h.provider == "" && p.Enhanced != "" {
		h.provider = rs.providerByCode(sc, p.Enhanced)
	}
	for _, id := range sc.found {
		sc.cand = append(sc.cand, rs.byKeyword[id]...)
	}
	if len(sc.cand) == 0 {
		return h
	}
	sort.Slice(sc.cand, func(i, j int) bool { return sc.cand[i] < sc.cand[j] })
	lower := ""
	last := int32(-1)
	for _, ri := range sc.cand {
		if ri == last {
			continue
		}
		last = ri
		r := rs.rules[ri]
		if !r.conditions(p, sc.seen) {
			continue
		}
		if r.re != nil {
			if lower == "" {
				lower = lowerASCII(text)
			}
			m := r.re.FindStringSubmatch(lower)
			if m == nil {
				continue
			}
			h.caps = captures(r.re, m)
		}
		if r.capture != nil && r.templated {
			if lower == "" {
				lower = lowerASCII(text)
			}
			if m := r.capture.FindStringSubmatch(lower); m != nil {
				h.caps = captures(r.capture, m)
			}
		}
		h.rule = r
		return h
	}
	return h
}

// providerByCode recognises a provider from its own enhanced codes
// (Exchange Online's 4.4.31x and 4.7.32x, listed as provider keywords),
// which the extraction removes from the reply text. The code is scanned
// apart from the text so that it cannot satisfy a rule's keywords: rules
// that want a code say so with enhanced.
func (rs *Rules) providerByCode(sc *scratch, enh string) string {
	sc.codeFound = rs.ac.scan(enh, sc.codeSeen, sc.codeFound)
	if len(sc.codeFound) == 0 {
		return ""
	}
	for _, pr := range rs.providers {
		if anySeen(sc.codeSeen, pr.any) {
			return pr.name
		}
	}
	return ""
}

func (r *rule) conditions(p *Parsed, seen []uint64) bool {
	s := r.spec
	for _, id := range r.all {
		if !isSeen(seen, id) {
			return false
		}
	}
	if len(r.any) > 0 && !anySeen(seen, r.any) {
		return false
	}
	if anySeen(seen, r.not) {
		return false
	}
	if len(s.Codes) > 0 && !containsInt(s.Codes, p.Code) {
		return false
	}
	if len(s.Enhanced) > 0 && !enhancedIn(s.Enhanced, p.Enhanced) {
		return false
	}
	if s.Class != 0 && replyClass(p) != s.Class {
		return false
	}
	if len(s.Stages) > 0 && !contains(s.Stages, p.Stage) {
		return false
	}
	if len(s.Hints) > 0 && !contains(s.Hints, p.Hint) {
		return false
	}
	return true
}

// replyClass is the class of the reply: the basic code's first digit, else
// the enhanced code's (RFC 3463 section 3.1), 0 if neither.
func replyClass(p *Parsed) int {
	if p.Code != 0 {
		return p.Code / 100
	}
	if p.Enhanced != "" {
		return int(p.Enhanced[0] - '0')
	}
	return 0
}

func enhancedIn(list []string, e string) bool {
	if e == "" {
		return false
	}
	for _, x := range list {
		if x == e || (strings.HasSuffix(x, ".") && strings.HasPrefix(e, x)) {
			return true
		}
	}
	return false
}

func isSeen(seen []uint64, id int) bool { return seen[id>>6]&(1<<(uint(id)&63)) != 0 }

func anySeen(seen []uint64, ids []int) bool {
	for _, id := range ids {
		if isSeen(seen, id) {
			return true
		}
	}
	return false
}

func containsInt(list []int, n int) bool {
	for _, x := range list {
		if x == n {
			return true
		}
	}
	return false
}

func captures(re *regexp.Regexp, m []string) map[string]string {
	var out map[string]string
	for i, name := range re.SubexpNames() {
		if name != "" && i < len(m) && m[i] != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[name] = m[i]
		}
	}
	return out
}

// fill replaces {name} and {name|default} in a template.
func fill(t string, vals map[string]string) string {
	if !strings.Contains(t, "{") {
		return t
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(t)
			return b.String()
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			b.WriteString(t)
			return b.String()
		}
		b.WriteString(t[:i])
		key, def, _ := strings.Cut(t[i+1:i+j], "|")
		if v := vals[key]; v != "" {
			b.WriteString(v)
		} else {
			b.WriteString(def)
		}
		t = t[i+j+1:]
	}
}
