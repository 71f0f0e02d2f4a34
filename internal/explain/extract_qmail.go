package explain

import "strings"

// isQmailDelivery recognises qmail-send's delivery result lines:
//
//	qmail: 1289842876.742046 delivery 21817: deferral: 192.0.2.1_does_not_like_recipient./Remote_host_said:_421_Service_Temporarily_Unavailable/Giving_up_on_192.0.2.1./
//
// (qmail-log(5): "delivery m: success/failure/deferral: report", where the
// report has spaces written as '_' and newlines as '/').
func isQmailDelivery(lower string) bool {
	k := strings.Index(lower, "delivery ")
	if k < 0 {
		return false
	}
	rest := lower[k+len("delivery "):]
	c := strings.Index(rest, ": ")
	if c <= 0 || strings.Trim(rest[:c], "0123456789") != "" {
		return false
	}
	rest = rest[c+2:]
	return strings.HasPrefix(rest, "deferral: ") || strings.HasPrefix(rest, "failure: ") || strings.HasPrefix(rest, "success: ")
}

// extractQmail decodes the report and reads it like qmail's bounce text.
func extractQmail(s, lower string) Parsed {
	p := Parsed{Format: "qmail"}
	k := strings.Index(lower, "delivery ")
	rest := s[k:]
	c := strings.Index(rest, ": ")
	rest = rest[c+2:]
	verb, report, _ := strings.Cut(rest, ": ")
	switch lowerASCII(verb) {
	case "deferral":
		p.Hint = HintDeferred
	case "failure":
		p.Hint = HintFailed
	case "success":
		p.Hint = HintSent
	}
	report = strings.NewReplacer("_", " ", "/", "\n").Replace(report)
	p.Stage = stageFromText(lowerASCII(collapseSpace(report)))
	if a, b, ok := strings.Cut(report, "\n"); ok && strings.Contains(lowerASCII(a), "does not like ") {
		// "H does not like recipient.": the stage cue; the reply follows.
		p.lead = a + " "
		report = b
	}
	r := extractReply(report)
	p.Code, p.Enhanced, p.Text = r.Code, r.Enhanced, r.Text
	p.lead += r.lead
	return p
}
