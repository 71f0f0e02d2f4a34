package explain

import (
	"os"
	"path/filepath"
	"testing"
)

// holdoutFloors are regression floors for the blind hold-out set only: it
// estimates accuracy on replies nobody has seen (issue 3 asks for >= 90%
// cause and >= 97% temporary there); the measured figures are in
// docs/explain.md. The tune set is scored and logged but not gated: the
// rules were improved with it in view.
var holdoutFloors = map[string]float64{"cause": 0.85, "temporary": 0.95}

// TestHoldout scores testdata/holdout/tune, blind and blind2 separately
// (blind2 was collected after the rules last changed: the cleanest
// estimate), field by field (-v logs per-field accuracy; misses of the tune
// set are listed, the blind set's are not, so that reading test output never
// leaks its wording into the rules).
func TestHoldout(t *testing.T) {
	e := mustExplainer(t)
	for _, set := range []string{"tune", "blind", "blind2"} {
		t.Run(set, func(t *testing.T) {
			entries := loadLabelled(t, filepath.Join("testdata", "holdout", set))
			if len(entries) == 0 {
				if os.Getenv("CI") == "true" {
					t.Fatalf("hold-out set %s missing: no testdata/holdout/%s/*.jsonl", set, set)
				}
				t.Skipf("hold-out set %s missing", set)
			}
			acc := scoreLabelled(t, e, entries, set == "tune")
			for _, f := range scoredFields {
				a, ok := acc[f]
				if !ok {
					continue
				}
				t.Logf("holdout %-5s accuracy %-9s %5.1f%% (%d/%d)", set, f, 100*a.rate(), a.ok, a.n)
				if bar, gated := holdoutFloors[f]; gated && set != "tune" && a.rate() < bar {
					t.Errorf("blind hold-out accuracy for %s is %.1f%%, below the %.0f%% floor", f, 100*a.rate(), 100*bar)
				}
			}
			t.Logf("holdout %s: %d entries", set, len(entries))
		})
	}
}

var scoredFields = []string{"cause", "temporary", "actor", "code", "enhanced", "stage", "provider"}

type fieldScore struct{ ok, n int }

func (s fieldScore) rate() float64 { return float64(s.ok) / float64(s.n) }

// scoreLabelled explains every entry and counts the labelled fields it got
// right; with listMisses and -v it logs each miss.
func scoreLabelled(t *testing.T, e *Explainer, entries []corpusEntry, listMisses bool) map[string]fieldScore {
	t.Helper()
	acc := map[string]fieldScore{}
	check := func(field string, ent corpusEntry, got, want any) {
		s := acc[field]
		s.n++
		if got == want {
			s.ok++
		} else if listMisses && testing.Verbose() {
			t.Logf("miss %-9s %s:%d got %v want %v: %.140q", field, ent.file, ent.line, got, want, ent.Input)
		}
		acc[field] = s
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
	return acc
}
