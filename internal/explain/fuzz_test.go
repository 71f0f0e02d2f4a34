package explain

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Every parser gets a fuzz test: bad input never panics and the outputs keep
// their invariants. Seed corpora live in testdata/fuzz/<FuzzName>/ and run
// with plain `go test`; `go test -fuzz FuzzExtract` explores further.

func FuzzExtract(f *testing.F) {
	for _, c := range seedCases {
		f.Add(c.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p := Extract(in)
		if p.Code != 0 && (p.Code < 200 || p.Code > 559) {
			t.Fatalf("code %d out of range", p.Code)
		}
		if p.Enhanced != "" && !enhancedOK(p.Enhanced, 0) {
			t.Fatalf("enhanced %q invalid", p.Enhanced)
		}
		if p.Stage == "" {
			t.Fatal("empty stage")
		}
	})
}

func FuzzExplain(f *testing.F) {
	for _, c := range seedCases {
		f.Add(c.in)
	}
	e := mustExplainer(f)
	f.Fuzz(func(t *testing.T, in string) {
		r := e.Explain(in)
		if !validCause(r.Cause) || !validActor(r.Actor) {
			t.Fatalf("cause %q actor %q", r.Cause, r.Actor)
		}
		if r.Summary == "" || r.Fix == nil {
			t.Fatal("no summary or fix")
		}
		var b strings.Builder
		if err := WriteText(&b, r); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzSplitDSN(f *testing.F) {
	f.Add(bounce)
	f.Add("Final-Recipient: rfc822; a@b\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 x\n")
	f.Add("Status: 4.4.7\n")
	f.Fuzz(func(t *testing.T, msg string) {
		for _, b := range SplitDSN(msg) {
			if b.Parsed.Stage == "" && b.Parsed.Format != "dsn" {
				t.Fatalf("block %+v", b)
			}
		}
	})
}

func FuzzSplitLines(f *testing.F) {
	f.Add("450-4.2.1 a\n450 4.2.1 b\n\n0x800CCC79\n")
	f.Add("450-\n450-\n")
	f.Fuzz(func(t *testing.T, in string) {
		n := 0
		err := SplitLines(strings.NewReader(in), func(s string) error {
			if strings.TrimSpace(s) == "" {
				t.Fatalf("blank input %q", s)
			}
			n++
			return nil
		})
		if err != nil && utf8.ValidString(in) && len(in) < 1<<20 {
			t.Fatal(err)
		}
	})
}

func FuzzLoad(f *testing.F) {
	f.Add(string(builtinRules[:2000]))
	f.Add("version = 1\n[[rule]]\nid = \"x\"\nany = [\"a\"]\n")
	f.Fuzz(func(t *testing.T, text string) {
		rs, err := Load("fuzz.toml", []byte(text))
		if err != nil {
			return
		}
		e, _ := New(rs)
		_ = e.Explain("450 4.7.1 try again later")
	})
}
