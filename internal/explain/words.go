package explain

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// The word model decides the cause when no rule matched: a naive Bayes
// classifier over the words of the input and its codes, learned from every
// labelled entry outside the blind hold-out sets (the corpus and the tuning
// sets). Rules stay first because they are precise and cite their sources;
// the model covers the long tail of wording no rule has met. Where no rule
// matches, the code tables alone named the right cause for 27.4% of the
// labelled entries and the model, reading the extracted reply (modelText),
// for 74.5% (1425 entries), each set scored by a model learned from the others
// (docs/explain.md, "The word model").
//
// words.tsv is generated, never edited: `go test ./internal/explain -run
// TestWordModel -update` rewrites it from the labelled sets, and the test
// fails when the committed file is stale.

//go:embed words.tsv
var builtinWords []byte

// wordAlpha is the additive (Lidstone) smoothing of the word counts, and
// wordMinDocs the number of labelled entries a word must appear in to be
// kept. Chosen by the cross-validation of TestWordModelCrossValidated
// (cause right where no rule matches, 50% threshold): alpha 0.1 and every
// word 72.2%, alpha 0.5 and words of two entries or more 69.1%, alpha 1
// 65.3-68.1%; a smaller alpha (0.02-0.05) 70.3-71.4%.
const (
	wordAlpha   = 0.1
	wordMinDocs = 1
)

// wordModel is a compiled words.tsv.
type wordModel struct {
	causes   []string
	logPrior []float64
	logLik   map[string][]float32 // word -> per cause log P(word | cause)
}

// wordTokens appends the distinct words of input (lower-case ASCII letters
// and digits, and UTF-8 letters, at least 3 bytes with a letter, at most
// 32; no part of an e-mail address) and its codes ("enh:4.7.1",
// "enhx:.7.1", "code:450") to dst.
func wordTokens(dst []string, input string, code int, enhanced string) []string {
	start := len(dst)
	var b [32]byte
	n, letter := 0, false
	flush := func() {
		if n >= 3 && n <= len(b) && letter {
			dst = append(dst, string(b[:n]))
		}
		n, letter = 0, false
	}
	for f := 0; f < len(input); {
		// One whitespace-separated field at a time; a field with an "@"
		// is an address, which says who, not why ("name@domain.com" would
		// teach "domain"), and is skipped whole.
		for f < len(input) && isSpaceByte(input[f]) {
			f++
		}
		e := f
		for e < len(input) && !isSpaceByte(input[e]) {
			e++
		}
		if strings.IndexByte(input[f:e], '@') >= 0 {
			f = e
			continue
		}
		for i := f; i < e; i++ {
			c := input[i]
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
				letter = true
			case c >= 'a' && c <= 'z' || c >= 0x80:
				letter = true
			case c >= '0' && c <= '9':
			default:
				flush()
				continue
			}
			if n < len(b) {
				b[n] = c
			}
			n++
		}
		flush()
		f = e
	}
	if enhanced != "" {
		dst = append(dst, "enh:"+enhanced, "enhx:"+enhanced[1:])
	}
	if code != 0 {
		dst = append(dst, "code:"+strconv.Itoa(code))
	}
	words := dst[start:]
	sort.Strings(words)
	k := 0
	for i, w := range words {
		if i == 0 || w != words[k-1] {
			words[k] = w
			k++
		}
	}
	return dst[:start+k]
}

// predict returns the most likely cause of the words, its posterior
// probability, and how many of the words the model knows.
func (m *wordModel) predict(words []string) (cause string, p float64, known int) {
	var buf [32]float64
	score := buf[:0]
	if len(m.causes) > len(buf) {
		score = make([]float64, 0, len(m.causes))
	}
	score = append(score, m.logPrior...)
	for _, w := range words {
		l, ok := m.logLik[w]
		if !ok {
			continue
		}
		known++
		for i, v := range l {
			score[i] += float64(v)
		}
	}
	best := 0
	for i := range score {
		if score[i] > score[best] {
			best = i
		}
	}
	z := 0.0
	for _, s := range score {
		z += math.Exp(s - score[best])
	}
	return m.causes[best], 1 / z, known
}

// loadWordModel reads words.tsv (writeWordModel's format).
func loadWordModel(data []byte) (*wordModel, error) {
	m := &wordModel{logLik: map[string][]float32{}}
	var docs, toks []float64
	type row struct {
		word   string
		counts map[int]float64
	}
	var rows []row
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		if t == "" || t[0] == '#' {
			continue
		}
		f := strings.Split(t, "\t")
		bad := func(what string) error { return fmt.Errorf("words.tsv:%d: %s", line, what) }
		switch f[0] {
		case "causes":
			if len(f) != 2 {
				return nil, bad("causes: want one field")
			}
			m.causes = strings.Fields(f[1])
			for _, c := range m.causes {
				if !validCause(c) {
					return nil, bad("unknown cause " + strconv.Quote(c))
				}
			}
		case "docs", "tokens":
			if len(f) != 2 {
				return nil, bad(f[0] + ": want one field")
			}
			var v []float64
			for _, s := range strings.Fields(f[1]) {
				n, err := strconv.ParseFloat(s, 64)
				if err != nil || n < 0 {
					return nil, bad(f[0] + ": not a count: " + s)
				}
				v = append(v, n)
			}
			if f[0] == "docs" {
				docs = v
			} else {
				toks = v
			}
		case "w":
			if len(f) != 3 || f[1] == "" {
				return nil, bad("w: want word and counts")
			}
			r := row{word: f[1], counts: map[int]float64{}}
			for _, kv := range strings.Fields(f[2]) {
				i, n, ok := strings.Cut(kv, ":")
				ci, err1 := strconv.Atoi(i)
				cn, err2 := strconv.ParseFloat(n, 64)
				if !ok || err1 != nil || err2 != nil || ci < 0 || ci >= len(m.causes) || cn <= 0 {
					return nil, bad("w: bad count " + strconv.Quote(kv))
				}
				r.counts[ci] = cn
			}
			rows = append(rows, r)
		default:
			return nil, bad("unknown line " + strconv.Quote(f[0]))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("words.tsv: %w", err)
	}
	if len(m.causes) == 0 || len(docs) != len(m.causes) || len(toks) != len(m.causes) {
		return nil, fmt.Errorf("words.tsv: causes, docs and tokens lines missing or of different lengths")
	}
	total := 0.0
	for _, d := range docs {
		total += d
	}
	v := float64(len(rows))
	m.logPrior = make([]float64, len(m.causes))
	logDen := make([]float64, len(m.causes))
	for i := range m.causes {
		// A cause without entries never wins (its prior is log 0).
		m.logPrior[i] = math.Log(docs[i] / total)
		logDen[i] = math.Log(toks[i] + wordAlpha*v)
	}
	for _, r := range rows {
		l := make([]float32, len(m.causes))
		for i := range l {
			l[i] = float32(math.Log(r.counts[i]+wordAlpha) - logDen[i])
		}
		m.logLik[r.word] = l
	}
	return m, nil
}

// wordCounts accumulates labelled entries into the counts words.tsv holds.
type wordCounts struct {
	docs, toks []float64
	byWord     map[string][]float64
	docsOf     map[string]int
}

func newWordCounts() *wordCounts {
	return &wordCounts{docs: make([]float64, len(Causes)), toks: make([]float64, len(Causes)),
		byWord: map[string][]float64{}, docsOf: map[string]int{}}
}

func causeIndex(c string) int {
	for i, x := range Causes {
		if x == c {
			return i
		}
	}
	return -1
}

// add counts one labelled input.
func (wc *wordCounts) add(input, cause string) {
	ci := causeIndex(cause)
	if ci < 0 {
		return
	}
	p := Extract(input)
	wc.docs[ci]++
	for _, w := range wordTokens(nil, modelText(&p), p.Code, p.Enhanced) {
		if wc.byWord[w] == nil {
			wc.byWord[w] = make([]float64, len(Causes))
		}
		wc.byWord[w][ci]++
		wc.docsOf[w]++
	}
}

// write renders the counts as words.tsv, words in byte order, leaving out
// the words seen in fewer than wordMinDocs entries.
func (wc *wordCounts) write(header string) []byte {
	var words []string
	toks := make([]float64, len(Causes))
	for w, n := range wc.docsOf {
		if n >= wordMinDocs {
			words = append(words, w)
			for i, c := range wc.byWord[w] {
				toks[i] += c
			}
		}
	}
	sort.Strings(words)
	var b bytes.Buffer
	b.WriteString(header)
	fmt.Fprintf(&b, "causes\t%s\n", strings.Join(Causes, " "))
	nums := func(v []float64) string {
		s := make([]string, len(v))
		for i, x := range v {
			s[i] = strconv.FormatFloat(x, 'f', -1, 64)
		}
		return strings.Join(s, " ")
	}
	fmt.Fprintf(&b, "docs\t%s\n", nums(wc.docs))
	fmt.Fprintf(&b, "tokens\t%s\n", nums(toks))
	for _, w := range words {
		var kv []string
		for i, c := range wc.byWord[w] {
			if c > 0 {
				kv = append(kv, strconv.Itoa(i)+":"+strconv.FormatFloat(c, 'f', -1, 64))
			}
		}
		fmt.Fprintf(&b, "w\t%s\t%s\n", w, strings.Join(kv, " "))
	}
	return b.Bytes()
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// modelText is what the word model reads: the reply text as extracted, with
// the codes, multi-line prefixes, log prefixes, DSN field names and bounce
// or client wrapper prose removed. The wrapper says which software reported
// the failure, not why; read whole, it pulled vague replies towards the
// causes of whichever collection used that wrapper most. Cross-validated
// (TestWordModelCrossValidated, 924 entries): 74.6% with the reply text,
// 70.8% with the whole input, 71.9% with the rules' text (lead and remote
// host included).
func modelText(p *Parsed) string { return p.Text }
