package explain

import (
	"strings"
	"testing"
)

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// familyCase is one input of a rule family and what explain must say of it.
type familyCase struct {
	in, cause, actor string
	temporary        bool
}

// checkFamilies explains every case and reports each one whose cause,
// actor or temporary flag differs, with the rule that decided.
func checkFamilies(t *testing.T, e *Explainer, cases []familyCase) {
	t.Helper()
	for _, c := range cases {
		r := e.Explain(c.in)
		if r.Cause != c.cause || r.Actor != c.actor || r.Temporary != c.temporary {
			t.Errorf("%q:\n got  %s/%s/%v (rule %s)\n want %s/%s/%v", c.in, r.Cause, r.Actor, r.Temporary, r.Rule, c.cause, c.actor, c.temporary)
		}
	}
}
