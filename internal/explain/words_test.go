package explain

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

var updateWords = flag.Bool("update", false, "rewrite words.tsv from the labelled sets")

// wordSets are the labelled sets the word model learns from: the corpus
// and every tuning set, never a blind set (those estimate accuracy on
// unseen input and must stay unseen).
func wordSets(t testing.TB) map[string][]corpusEntry {
	sets := map[string][]corpusEntry{"corpus": loadCorpus(t)}
	dirs, _ := filepath.Glob(filepath.Join("testdata", "holdout", "tune*"))
	for _, d := range dirs {
		sets[filepath.Base(d)] = loadLabelled(t, d)
	}
	return sets
}

func countSets(sets map[string][]corpusEntry, skip string) (*wordCounts, []string) {
	wc := newWordCounts()
	var names []string
	for name, es := range sets {
		if name == skip {
			continue
		}
		names = append(names, name)
		for _, e := range es {
			if e.Cause != nil {
				wc.add(e.Input, *e.Cause)
			}
		}
	}
	sort.Strings(names)
	return wc, names
}

// TestWordModel checks that the committed words.tsv is what the labelled
// sets give; -update rewrites it.
func TestWordModel(t *testing.T) {
	sets := wordSets(t)
	wc, names := countSets(sets, "")
	n := 0
	for _, es := range sets {
		n += len(es)
	}
	header := "# words.tsv: the word model of tempfail explain (words.go). Generated, do not edit:\n" +
		"#   go test ./internal/explain -run TestWordModel -update\n" +
		"# Learned from " + strings.Join(names, ", ") + " (testdata; never the blind hold-out sets).\n"
	got := wc.write(header)
	if *updateWords {
		if err := os.WriteFile("words.tsv", got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("words.tsv rewritten from %d labelled entries", n)
	}
	if !bytes.Equal(got, builtinWords) && !*updateWords {
		t.Fatalf("words.tsv is stale: the labelled sets changed; run go test ./internal/explain -run TestWordModel -update")
	}
	if _, err := loadWordModel(got); err != nil {
		t.Fatal(err)
	}
}

// TestWordModelCrossValidated measures what the model is for: where no
// rule matches, how often it names the right cause, against the code
// tables alone. Each labelled set is scored by a model learned from the
// others, with the rules ignored (as for wording no rule has met).
func TestWordModelCrossValidated(t *testing.T) {
	e := mustExplainer(t)
	sets := wordSets(t)
	var n, byCode, byWords int
	for held, es := range sets {
		wc, _ := countSets(sets, held)
		m, err := loadWordModel(wc.write(""))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range es {
			if x.Cause == nil {
				continue
			}
			p := Extract(x.Input)
			n++
			code := CauseOther
			if c, _ := e.rules.fallback(&p); c != nil {
				code = c.Cause
			}
			if code == *x.Cause {
				byCode++
			}
			if c, _, _ := m.predict(wordTokens(nil, modelText(&p), p.Code, p.Enhanced)); c == *x.Cause {
				byWords++
			}
		}
	}
	codeRate, wordRate := float64(byCode)/float64(n), float64(byWords)/float64(n)
	t.Logf("cause right, rules ignored, each set scored by a model of the others (%d entries): code tables %.1f%%, word model %.1f%%",
		n, 100*codeRate, 100*wordRate)
	if wordRate < codeRate+0.2 {
		t.Errorf("the word model (%.1f%%) is not clearly better than the code tables (%.1f%%): it should not decide", 100*wordRate, 100*codeRate)
	}
}

func TestWordTokens(t *testing.T) {
	got := wordTokens(nil, "450 4.7.1 <a@Example.COM>: Recipient address rejected: Greylisted, see http://x/1 Grüße recipient", 450, "4.7.1")
	want := []string{"address", "code:450", "enh:4.7.1", "enhx:.7.1", "greylisted", "grüße", "http", "recipient", "rejected", "see"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("wordTokens:\n got %q\nwant %q", got, want)
	}
}

func TestLoadWordModelErrors(t *testing.T) {
	for _, in := range []string{
		"causes\tgreylisting\ndocs\t1\n",                         // no tokens line
		"causes\tnot_a_cause\ndocs\t1\ntokens\t1\n",              // unknown cause
		"causes\tgreylisting\ndocs\t1\ntokens\t1\nw\tx\t5:1\n",   // cause index out of range
		"causes\tgreylisting\ndocs\t1\ntokens\t1\nbogus\tline\n", // unknown line
	} {
		if _, err := loadWordModel([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "words.tsv") {
			t.Errorf("%q: err = %v, want a words.tsv error", in, err)
		}
	}
}

// FuzzLoadWordModel: a damaged words.tsv is an error naming its line, never
// a panic; whatever loads predicts without panicking.
func FuzzLoadWordModel(f *testing.F) {
	f.Add(builtinWords[:min(len(builtinWords), 2000)])
	f.Add([]byte("causes\tgreylisting other\ndocs\t1 1\ntokens\t2 2\nw\tgreylisted\t0:2\n"))
	f.Add([]byte("causes\tgreylisting\ndocs\t0\ntokens\t0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := loadWordModel(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "words.tsv") {
				t.Fatalf("error without the file name: %v", err)
			}
			return
		}
		m.predict([]string{"greylisted", "enh:4.7.1", "code:450"})
	})
}

// TestModelText: the word model reads the extracted reply, not the log,
// bounce or client wrapper around it.
func TestModelText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"450 4.7.1 <a@b.example>: Recipient address rejected: Greylisted", "<a@b.example>: Recipient address rejected: Greylisted"},
		{"<a@b.example>: host mx.b.example[192.0.2.1] said: 554 5.7.1 Spam score too high (in reply to end of DATA command)", "Spam score too high"},
		{"Final-Recipient: rfc822; a@b.example\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 554 Transaction failed", "Transaction failed"},
		{"SMTP Error: data not accepted.SMTP server error: DATA END command failed Detail: 550 5.7.1 Message rejected", "Message rejected"},
		{"Connection timed out", "Connection timed out"},
	} {
		p := Extract(tt.in)
		if got := modelText(&p); got != tt.want {
			t.Errorf("modelText(%.60q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
