package explain

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/tempfail/tempfail/internal/reply"
)

// Explainer classifies inputs with one compiled rule set. It is safe for
// concurrent use.
type Explainer struct {
	rules *Rules
	words *wordModel // nil: rules and code tables only
}

// builtinWordModel is words.tsv, compiled once.
var builtinWordModel = sync.OnceValues(func() (*wordModel, error) { return loadWordModel(builtinWords) })

// New returns an Explainer over rs (nil: the embedded rules). The word
// model is used only with rules that have a [[cause]] table for its texts.
func New(rs *Rules) (*Explainer, error) {
	if rs == nil {
		var err error
		if rs, err = LoadBuiltin(); err != nil {
			return nil, err
		}
	}
	e := &Explainer{rules: rs}
	if len(rs.byCause) > 0 {
		m, err := builtinWordModel()
		if err != nil {
			return nil, err
		}
		e.words = m
	}
	return e, nil
}

// The word model decides only from at least minKnownWords words it has
// seen in labelled entries, and only when its cause is at least
// minWordProb likely: below that it is a guess, and the codes (or "other")
// say as much. 0.5 scored best in the cross-validation of
// TestWordModelCrossValidated (68.1%; 67.5% with no threshold, 63.8% at
// 0.9), and keeps most inputs labelled "other" there.
const (
	minKnownWords = 2
	minWordProb   = 0.5
)

// byWords is the word model's cause for an input no rule matched.
func (e *Explainer) byWords(input string, p *Parsed) (cause string, prob float64, ok bool) {
	if e.words == nil {
		return "", 0, false
	}
	var buf [64]string
	cause, prob, known := e.words.predict(wordTokens(buf[:0], modelText(p), p.Code, p.Enhanced))
	if known < minKnownWords || prob < minWordProb || e.rules.byCause[cause] == nil {
		return "", 0, false
	}
	return cause, prob, true
}

// Rules is the rule set in use.
func (e *Explainer) Rules() *Rules { return e.rules }

// Explain classifies one input. Unknown input is not an error: it gets
// cause "other" with whatever its codes say, and a hint.
func (e *Explainer) Explain(input string) Result {
	return e.explainParsed(input, Extract(input))
}

// ExplainDSN classifies every per-recipient block of a bounce message or a
// message/delivery-status part (RFC 3464), one Result per block.
func (e *Explainer) ExplainDSN(msg string) []Result {
	var out []Result
	for _, b := range SplitDSN(msg) {
		p := b.Parsed
		if p.Stage == "" {
			p.Stage = stageFromText(lowerASCII(p.Text))
		}
		if p.Stage == "" {
			p.Stage = StageUnknown
		}
		out = append(out, e.explainParsed(b.Text, p))
	}
	return out
}

func (e *Explainer) explainParsed(input string, p Parsed) Result {
	res := Result{
		Input:     input,
		Code:      p.Code,
		Enhanced:  p.Enhanced,
		Stage:     p.Stage,
		Remote:    p.Remote,
		Reply:     p.Text,
		Recipient: p.Recipient,
		Fix:       []string{},
	}
	if st, ok := reply.ParseStatus(p.Enhanced); ok {
		res.EnhancedMeaning = reply.Meaning(st)
	}
	h := e.rules.match(&p, matchText(&p))
	res.Provider = h.provider
	var temp, assume *bool
	switch {
	case h.rule != nil:
		s := h.rule.spec
		vals := map[string]string{"remote": p.Remote, "code": codeString(p.Code), "enhanced": p.Enhanced}
		for k, v := range h.caps {
			vals[k] = v
		}
		res.Cause, res.Actor = s.Cause, s.Actor
		res.Summary, res.Resolves = fill(s.Summary, vals), fill(s.Resolves, vals)
		for _, f := range s.Fix {
			res.Fix = append(res.Fix, fill(f, vals))
		}
		res.Rule, res.Software, res.Source, res.Hint = s.ID, s.Software, s.Source, fill(s.Hint, vals)
		if s.Provider != "" {
			res.Provider = s.Provider
		}
		if res.Stage == StageUnknown && s.Stage != "" {
			res.Stage = s.Stage
		}
		temp, assume = s.Temporary, s.AssumeTemporary
	default:
		c, via := e.rules.fallback(&p)
		if wc, prob, ok := e.byWords(input, &p); ok && (c == nil || c.Cause != wc) {
			// No rule matched: the words decide the cause (words.go), the
			// codes still decide temporary. When the code table agrees, its
			// more specific text is kept (below).
			s := e.rules.byCause[wc]
			res.Cause, res.Actor = s.Cause, s.Actor
			res.Summary, res.Resolves, res.Source = s.Summary, s.Resolves, s.Source
			res.Fix = append(res.Fix, s.Fix...)
			res.Hint = fmt.Sprintf("no specific rule matched: the cause was inferred from the wording (%.0f%% likely); check it against the full reply", 100*prob)
			res.Rule = "words:" + wc
			break
		}
		if c == nil {
			res.Cause, res.Actor = CauseOther, ActorBoth
			res.Summary = "No SMTP reply code and no wording tempfail recognises."
			res.Fix = []string{"Find the full reply: the line in the sending server's log with \"said:\" or \"SMTP error\", or the Diagnostic-Code of the bounce, and explain that instead."}
			res.Resolves = "Unknown until the full reply is known."
			res.Hint = "paste the whole log line or bounce; a 4xx code means the sender retries, a 5xx code means it gave up"
			res.Rule = "none"
			break
		}
		res.Cause, res.Actor = c.Cause, c.Actor
		res.Summary, res.Resolves, res.Hint, res.Source = c.Summary, c.Resolves, c.Hint, c.Source
		res.Fix = append(res.Fix, c.Fix...)
		res.Rule = via
	}
	res.Temporary = temporary(&p, res.Cause, temp, assume)
	var ruleHints []string
	if h.rule != nil {
		ruleHints = h.rule.spec.Hints
	}
	if gaveUp(&p, temp, ruleHints) {
		// The explanation of a 4xx reply says the queue retries; this
		// message's sender has stopped (a bounce, an expiry, Action:
		// failed), so say that first and do not promise a retry.
		res.Fix = append([]string{"This message is not retried any more: the sending side gave up on it although the failure was temporary (a 4xx code). Fix what the reply says (below), then resend it."}, res.Fix...)
		res.Resolves = "Not by waiting: this message was returned. " + res.Resolves
	}
	return res
}

// gaveUp reports a temporary (4xx) refusal that the sending side treated as
// final (Postfix status=bounced or expired, Exim **, DSN Action: failed),
// unless the matching rule is about exactly that and says so itself: it
// overrides temporary (an expiry) or only matches a failed or expired
// status (greylisting given up on).
func gaveUp(p *Parsed, override *bool, ruleHints []string) bool {
	if override != nil || !(p.Hint == HintFailed || p.Hint == HintExpired) || replyClass(p) != 4 {
		return false
	}
	for _, h := range ruleHints {
		if h == HintFailed || h == HintExpired {
			return false
		}
	}
	return true
}

// matchText is what the rules see: the text before the reply, the reply
// text with continuation prefixes removed, and the remote host (provider
// names live there: gmail-smtp-in.l.google.com).
func matchText(p *Parsed) string {
	var b strings.Builder
	b.Grow(len(p.lead) + len(p.Text) + len(p.Remote) + 8)
	writeMasked(&b, p.lead)
	b.WriteString(" ")
	writeMasked(&b, p.Text)
	if p.Format != "postfix-smtpd" {
		// smtpd's remote is the client that was rejected, not the provider
		// that answered.
		b.WriteString(" | ")
		b.WriteString(p.Remote)
	}
	return b.String()
}

// writeMasked writes s with the local part of every e-mail address
// replaced by "x": an address says who, not why, and its local part
// ("noreply-spf@", "bounce-spam-report@") must not look like a cause to
// the rules. The domain stays: providers are named there.
func writeMasked(b *strings.Builder, s string) {
	for {
		at := strings.IndexByte(s, '@')
		if at < 0 {
			b.WriteString(s)
			return
		}
		start := at
		for start > 0 && isLocalPartByte(s[start-1]) {
			start--
		}
		b.WriteString(s[:start])
		if start < at {
			b.WriteByte('x')
		}
		b.WriteByte('@')
		s = s[at+1:]
	}
}

// isLocalPartByte: RFC 5322 atext and ".", less "/", "=", "?" and "&",
// which in practice end a URL's query before an address in it
// ("why.html?sender=al@example.com").
func isLocalPartByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".!#$%'*+-^_`{|}~", c) >= 0
}

// fallback looks the codes up when no specific rule matched: the exact
// enhanced code, the enhanced code of either class (x.S.D), the exact basic
// code, then the basic class (4xx, 5xx). RFC 3463 section 2: the subject and
// detail carry the meaning, the class only says transient or permanent.
func (rs *Rules) fallback(p *Parsed) (*codeSpec, string) {
	if p.Enhanced != "" {
		if c := rs.enhanced[p.Enhanced]; c != nil {
			return c, "enhanced:" + p.Enhanced
		}
		k := "x" + p.Enhanced[1:]
		if c := rs.enhanced[k]; c != nil {
			return c, "enhanced:" + k
		}
	}
	if p.Code != 0 {
		k := codeString(p.Code)
		if c := rs.basic[k]; c != nil {
			return c, "basic:" + k
		}
		k = k[:1] + "xx"
		if c := rs.basic[k]; c != nil {
			return c, "basic:" + k
		}
	}
	if p.Enhanced != "" {
		k := p.Enhanced[:1] + "xx"
		if c := rs.basic[k]; c != nil {
			return c, "basic:" + k
		}
	}
	return nil, ""
}

// temporary applies the design brief's conventions: true when the sending
// MTA keeps the message and retries, false for a final failure. A rule may
// override (an expiry is final even with a 4.x.x code inside); then the log
// format's status decides (Postfix status=, Exim ==/**, DSN Action: of RFC
// 3464 section 2.3.3), then the reply class (RFC 5321 section 4.2.1: 4yz
// transient, 5yz permanent), then the enhanced class (RFC 3463 section 3.1).
// Without any of these, a rule's assumption or the cause's nature decides.
func temporary(p *Parsed, cause string, override, assume *bool) bool {
	if override != nil {
		return *override
	}
	switch p.Hint {
	case HintDeferred:
		return true
	case HintFailed, HintExpired, HintSent:
		return false
	}
	switch replyClass(p) {
	case 4:
		return true
	case 2, 5:
		return false
	}
	if assume != nil {
		return *assume
	}
	if p.client {
		return false // a library's or client's failed send: nothing retries it
	}
	switch cause {
	case CauseGreylisting, CauseRateLimit, CauseRecipientUnverified, CauseTimeout,
		CauseDNSLookupFailure, CauseServerBusy, CauseRemoteFailure:
		return true
	}
	return false
}

func codeString(c int) string {
	if c == 0 {
		return ""
	}
	return strconv.Itoa(c)
}
