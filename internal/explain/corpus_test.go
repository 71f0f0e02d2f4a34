package explain

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// corpusEntry is one labelled line of testdata/corpus/*.jsonl. Pointer
// fields: absent = not labelled, not scored.
type corpusEntry struct {
	Input     string  `json:"input"`
	Cause     *string `json:"cause"`
	Temporary *bool   `json:"temporary"`
	Actor     *string `json:"actor"`
	Code      *int    `json:"code"`
	Enhanced  *string `json:"enhanced"`
	Stage     *string `json:"stage"`
	Provider  *string `json:"provider"`
	Source    string  `json:"source"`

	file string
	line int
}

// loadCorpus reads every corpus file; missing or empty is reported as nil.
func loadCorpus(t testing.TB) []corpusEntry {
	t.Helper()
	return loadLabelled(t, filepath.Join("testdata", "corpus"))
}

// loadLabelled reads every *.jsonl file of dir (corpus format); missing or
// empty is reported as nil.
func loadLabelled(t testing.TB, dir string) []corpusEntry {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	sort.Strings(files)
	var out []corpusEntry
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatalf("corpus: %v", err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		n := 0
		for sc.Scan() {
			n++
			if len(sc.Bytes()) == 0 {
				continue
			}
			var e corpusEntry
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("%s:%d: %v", f, n, err)
			}
			e.file, e.line = filepath.Base(f), n
			out = append(out, e)
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return out
}

// corpusBars are the accuracy floors per field (issue 3 and the brief).
var corpusBars = map[string]float64{
	"cause": 0.90, "temporary": 0.97, "actor": 0.85, "code": 0.99, "enhanced": 0.99, "stage": 0.90,
}

// TestCorpus scores explain against the labelled corpus of real replies and
// log lines, field by field; -v lists every miss.
func TestCorpus(t *testing.T) {
	entries := loadCorpus(t)
	if len(entries) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("corpus missing: no testdata/corpus/*.jsonl")
		}
		t.Skip("corpus missing: no testdata/corpus/*.jsonl")
	}
	e := mustExplainer(t)
	type score struct{ ok, n int }
	scores := map[string]*score{}
	check := func(field string, ent corpusEntry, got, want any) {
		s := scores[field]
		if s == nil {
			s = &score{}
			scores[field] = s
		}
		s.n++
		if got == want {
			s.ok++
			return
		}
		if testing.Verbose() {
			t.Logf("miss %-9s %s:%d got %v want %v: %.140q", field, ent.file, ent.line, got, want, ent.Input)
		}
	}
	for _, ent := range entries {
		r := e.Explain(ent.Input)
		if ent.Cause != nil {
			check("cause", ent, r.Cause, *ent.Cause)
		}
		if ent.Temporary != nil {
			check("temporary", ent, r.Temporary, *ent.Temporary)
		}
		if ent.Actor != nil {
			check("actor", ent, r.Actor, *ent.Actor)
		}
		if ent.Code != nil {
			check("code", ent, r.Code, *ent.Code)
		}
		if ent.Enhanced != nil {
			check("enhanced", ent, r.Enhanced, *ent.Enhanced)
		}
		if ent.Stage != nil {
			check("stage", ent, r.Stage, *ent.Stage)
		}
		if ent.Provider != nil {
			check("provider", ent, r.Provider, *ent.Provider)
		}
	}
	fields := []string{"cause", "temporary", "actor", "code", "enhanced", "stage", "provider"}
	for _, f := range fields {
		s := scores[f]
		if s == nil || s.n == 0 {
			continue
		}
		acc := float64(s.ok) / float64(s.n)
		t.Logf("corpus accuracy %-9s %5.1f%% (%d/%d)", f, 100*acc, s.ok, s.n)
		if bar, ok := corpusBars[f]; ok && acc < bar {
			t.Errorf("corpus accuracy for %s is %.1f%%, below the %.0f%% bar", f, 100*acc, 100*bar)
		}
	}
	t.Logf("corpus: %d entries", len(entries))
}

func mustExplainer(t testing.TB) *Explainer {
	t.Helper()
	e, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}
