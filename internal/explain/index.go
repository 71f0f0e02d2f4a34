package explain

import (
	"errors"
	"fmt"
	"strings"
)

// The rule set is found by keyword, not by trying every rule: all keywords
// of all rules and providers go into one Aho-Corasick automaton, so one pass
// over the input (case-folded on the fly) marks every keyword present, and
// only rules whose keywords were seen are evaluated. Regular expressions run
// only to confirm a candidate. This keeps the cost per input near-constant
// as the rule file grows (issue 3: >= 100,000 inputs/s on one core).

type keyword struct {
	text               string // lower-case literal
	wordStart, wordEnd bool   // `\b` markers
}

type keywords struct {
	list []keyword
	byID map[keyword]int
}

func newKeywords() *keywords { return &keywords{byID: map[keyword]int{}} }

func (k *keywords) n() int { return len(k.list) }

// ids interns the literals, parsing the `\b` markers.
func (k *keywords) ids(lits []string) ([]int, error) {
	var out []int
	for _, lit := range lits {
		kw := keyword{text: lit}
		if strings.HasPrefix(kw.text, `\b`) {
			kw.text, kw.wordStart = kw.text[2:], true
		}
		if strings.HasSuffix(kw.text, `\b`) {
			kw.text, kw.wordEnd = kw.text[:len(kw.text)-2], true
		}
		if kw.text == "" {
			return nil, errors.New("empty keyword")
		}
		if kw.text != lowerASCII(kw.text) {
			return nil, fmt.Errorf("keyword %q must be lower case (matching is case-insensitive)", lit)
		}
		id, ok := k.byID[kw]
		if !ok {
			id = len(k.list)
			k.byID[kw] = id
			k.list = append(k.list, kw)
		}
		out = append(out, id)
	}
	return out, nil
}

// automaton is a DFA over byte classes: every byte that occurs in a keyword
// has its own class (upper-case ASCII shares the lower-case class), all
// others share class 0.
type automaton struct {
	class   [256]uint8
	nclass  int
	trans   []int32 // state*nclass + class -> state
	out     [][]int32
	kws     []keyword
	hasOut  []bool
	maxKwID int
}

func (k *keywords) build() *automaton {
	a := &automaton{kws: k.list}
	n := 1
	for _, kw := range k.list {
		for i := 0; i < len(kw.text); i++ {
			b := kw.text[i]
			if a.class[b] == 0 {
				a.class[b] = uint8(n)
				if b >= 'a' && b <= 'z' {
					a.class[b-32] = uint8(n)
				}
				n++
			}
		}
	}
	if n > 255 {
		panic("explain: too many distinct keyword bytes") // cannot happen: < 256 bytes exist
	}
	a.nclass = n
	// Trie.
	a.trans = make([]int32, n)
	for i := range a.trans {
		a.trans[i] = -1
	}
	a.out = [][]int32{nil}
	for id, kw := range k.list {
		s := int32(0)
		for i := 0; i < len(kw.text); i++ {
			c := int32(a.class[kw.text[i]])
			nx := a.trans[s*int32(n)+c]
			if nx < 0 {
				nx = int32(len(a.out))
				a.out = append(a.out, nil)
				for j := 0; j < n; j++ {
					a.trans = append(a.trans, -1)
				}
				a.trans[s*int32(n)+c] = nx
			}
			s = nx
		}
		a.out[s] = append(a.out[s], int32(id))
	}
	// Failure links by BFS, completing the transition table into a DFA.
	fail := make([]int32, len(a.out))
	queue := make([]int32, 0, len(a.out))
	for c := 0; c < n; c++ {
		nx := a.trans[c]
		if nx < 0 {
			a.trans[c] = 0
			continue
		}
		fail[nx] = 0
		queue = append(queue, nx)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		a.out[s] = append(a.out[s], a.out[fail[s]]...)
		for c := int32(0); c < int32(n); c++ {
			nx := a.trans[s*int32(n)+c]
			f := a.trans[fail[s]*int32(n)+c]
			if nx < 0 {
				a.trans[s*int32(n)+c] = f
				continue
			}
			fail[nx] = f
			queue = append(queue, nx)
		}
	}
	a.hasOut = make([]bool, len(a.out))
	for i, o := range a.out {
		a.hasOut[i] = len(o) > 0
	}
	return a
}

// scan marks in seen every keyword present in text (ASCII case-folded).
// It returns the ids found, in order of first sight.
func (a *automaton) scan(text string, seen []uint64, found []int32) []int32 {
	s := int32(0)
	n := int32(a.nclass)
	for i := 0; i < len(text); i++ {
		s = a.trans[s*n+int32(a.class[text[i]])]
		if !a.hasOut[s] {
			continue
		}
		for _, id := range a.out[s] {
			kw := &a.kws[id]
			if kw.wordEnd && i+1 < len(text) && isWordByte(text[i+1]) {
				continue
			}
			if kw.wordStart {
				st := i + 1 - len(kw.text)
				if st > 0 && isWordByte(text[st-1]) {
					continue
				}
			}
			w, bit := id>>6, uint64(1)<<(uint(id)&63)
			if seen[w]&bit == 0 {
				seen[w] |= bit
				found = append(found, id)
			}
		}
	}
	return found
}

func isWordByte(b byte) bool { return isDigit(b) || isAlpha(b) || b == '_' }
