package trace

import (
	"testing"

	"github.com/tempfail/tempfail/internal/explain"
)

// TestExplainClassifier: the real explain classifier on the test logs.
func TestExplainClassifier(t *testing.T) {
	ex, err := explain.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	msgs, _ := run(t, Options{Classifier: ExplainClassifier(ex)}, "greylist.log", "expired.log", "bounced.log", "exim.log")
	type want struct {
		cause, status string
		temp          bool
	}
	got := map[string][]want{}
	for _, m := range msgs {
		for _, r := range m.Recipients {
			for _, a := range r.Attempts {
				if a.Status == "sent" {
					continue
				}
				got[r.Address] = append(got[r.Address], want{a.Cause, a.Status, a.Temporary})
				if a.Why == "" {
					t.Errorf("%s: attempt without why: %+v", r.Address, a)
				}
			}
		}
	}
	check := func(addr string, w ...want) {
		t.Helper()
		g := got[addr]
		if len(g) != len(w) {
			t.Fatalf("%s: got %+v, want %+v", addr, g, w)
		}
		for i := range w {
			if g[i] != w[i] {
				t.Errorf("%s attempt %d: got %+v, want %+v", addr, i, g[i], w[i])
			}
		}
	}
	// once from Postfix (greylist.log), once from Exim (exim.log)
	check("user@recipient.com", want{"greylisting", "deferred", true}, want{"greylisting", "deferred", true})
	check("nobody@example.org", want{"recipient_unknown", "bounced", false}, want{"recipient_unknown", "bounced", false})
	check("order@arobor.ru", want{"timeout", "deferred", true}, want{"timeout", "deferred", true}, want{"timeout", "expired", false})
}

func TestFirstSentence(t *testing.T) {
	for in, want := range map[string]string{
		"One. Two.":             "One.",
		"Uses e.g. this. Then.": "Uses e.g. this.",
		"No stop":               "No stop",
		"":                      "",
	} {
		if got := firstSentence(in); got != want {
			t.Errorf("%q: got %q want %q", in, got, want)
		}
	}
}
