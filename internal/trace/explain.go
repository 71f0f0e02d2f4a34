package trace

import (
	"strings"

	"github.com/tempfail/tempfail/internal/explain"
)

// ExplainClassifier is the Classifier of `tempfail trace` and `tempfail
// report`: every attempt and reject is classified by internal/explain, the
// same classifier as `tempfail explain` (issue 6: "build it on that, not
// beside it").
//
// explain recognises whole Postfix and Exim log lines and takes the stage
// (RCPT, end of DATA...) and the status (deferred, bounced) from them, so
// the line is what it gets. An expiry is the exception: qmgr's
// "status=expired, returned to sender" line says nothing about why, so the
// cause comes from the last deferral's reply, and the attempt is final
// (temporary false) whatever code that reply had.
func ExplainClassifier(ex *explain.Explainer) Classifier {
	return ClassifierFunc(func(reply string, h Hint) Class {
		in := h.Line
		if in == "" || h.Status == "expired" && reply != "" {
			in = reply
		}
		r := ex.Explain(in)
		c := Class{Cause: r.Cause, Temporary: r.Temporary, Summary: r.Summary}
		if h.Status == "expired" {
			c.Temporary = false
		}
		return c
	})
}

// firstSentence cuts s after its first sentence (". " or the end).
func firstSentence(s string) string {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '.' && s[i+1] == ' ' {
			// not after a one-letter abbreviation ("e.g. ")
			if i >= 2 && s[i-2] == '.' {
				continue
			}
			return s[:i+1]
		}
	}
	return strings.TrimSpace(s)
}
