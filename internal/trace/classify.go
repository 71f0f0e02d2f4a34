package trace

import "strings"

// Class is what the classifier says about one attempt or reject. Cause is
// one of the explain taxonomy names (design.md, "explain: the taxonomy"):
// greylisting, rate_limit, ..., other.
type Class struct {
	Cause     string
	Temporary bool
	// Summary is the classifier's one-paragraph explanation (explain's
	// Result.Summary); optional. Attempt.Why keeps its first sentence.
	Summary string
}

// Hint is what the log says around a reply, besides the reply text itself.
type Hint struct {
	MTA    string // "postfix" or "exim"
	Status string // sent, deferred, bounced, expired; "reject" for smtpd/cleanup/Exim rejects
	Action string // for rejects: reject, defer, hold, discard, milter-reject...
	DSN    string // enhanced status code (dsn= or found in the text)
	Code   int    // basic reply code found in the text, 0 if none
	Relay  string // the remote host, if any
	// Line is the original log line. The explain classifier recognises
	// whole Postfix/Exim lines and takes stage and status from them, so an
	// adapter can pass Line instead of the bare reply.
	Line string
}

// Classifier gives each delivery attempt and reject its cause and whether
// it is temporary. This is the seam to internal/explain: once explain is
// done, wiring it in is a one-line adapter, for example
//
//	ex, _ := explain.New(nil)
//	c := trace.ClassifierFunc(func(reply string, h trace.Hint) trace.Class {
//		r := ex.Explain(h.Line) // or reply
//		return trace.Class{Cause: r.Cause, Temporary: r.Temporary}
//	})
//
// passed as Options.Classifier. Implementations must be safe to call from
// the correlator's goroutine; they are called once per non-successful
// attempt and reject (successful deliveries are not classified).
type Classifier interface {
	Classify(reply string, hint Hint) Class
}

// ClassifierFunc adapts a function to Classifier.
type ClassifierFunc func(reply string, hint Hint) Class

// Classify calls f.
func (f ClassifierFunc) Classify(reply string, hint Hint) Class { return f(reply, hint) }

// DefaultClassifier is the stand-in used until explain is wired in: cause
// "other", temporary from the status alone (design.md: a 4xx reply, Postfix
// status=deferred, Exim "==" are temporary; 5xx, bounced, Exim "**" and an
// expiry are not, even with a 4.x.x code inside).
type DefaultClassifier struct{}

// Classify implements Classifier.
func (DefaultClassifier) Classify(reply string, h Hint) Class {
	return Class{Cause: "other", Temporary: TemporaryFromStatus(h)}
}

// TemporaryFromStatus is the status-only rule of DefaultClassifier.
func TemporaryFromStatus(h Hint) bool {
	switch h.Status {
	case "deferred":
		return true
	case "sent", "bounced", "expired":
		return false
	}
	// rejects: the reply code decides, then the enhanced code, then the action.
	switch {
	case h.Code >= 400 && h.Code < 500:
		return true
	case h.Code >= 500:
		return false
	case strings.HasPrefix(h.DSN, "4."):
		return true
	case strings.HasPrefix(h.DSN, "5."):
		return false
	}
	switch h.Action {
	case "defer", "defer_if_permit", "defer_if_reject", "milter-defer", "hold", "milter-hold":
		return true
	}
	return false
}
