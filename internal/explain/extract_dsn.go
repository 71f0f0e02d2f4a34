package explain

import "strings"

// dsnFieldNames are the per-recipient fields of RFC 3464 section 2.3 that
// explain reads, plus the per-message fields that may start a paste.
var dsnFieldNames = []string{
	"status:", "diagnostic-code:", "action:", "final-recipient:", "original-recipient:",
	"remote-mta:", "reporting-mta:", "last-attempt-date:", "will-retry-until:",
}

// isDSNFields: the input is a block of header fields that holds a DSN
// field ("Status: 4.4.7", "Diagnostic-Code: smtp; 450 ..."), at its start
// or after other fields of the same part ("MIME-Version: 1.0\nFinal-
// Recipient: ...", "Content-Type: message/delivery-status\n\nReporting-MTA:
// ..."). A whole message pasted with its headers is not one: its body
// (prose, not fields) ends the scan before any DSN field.
func isDSNFields(lower string) bool {
	for n := 0; lower != "" && n < 16; n++ {
		line := lower
		if i := strings.IndexByte(lower, '\n'); i >= 0 {
			line, lower = lower[:i], lower[i+1:]
		} else {
			lower = ""
		}
		line = strings.TrimRight(line, "\r")
		for _, f := range dsnFieldNames {
			if strings.HasPrefix(line, f) {
				return true
			}
		}
		switch {
		case line == "" && n > 0, line != "" && (line[0] == ' ' || line[0] == '\t') && n > 0:
			// a part's blank separator, or a folded continuation
		case !looksLikeField(line):
			return false
		}
	}
	return false
}

// dsnBlock is one per-recipient block of a message/delivery-status part.
type dsnBlock struct {
	recipient, action, status, remote, diagType, diag string
	raw                                               []string
	sawFinal, sawOriginal, sawOther                   bool
}

// useful: the block says something explain can classify (an "Status: RO"
// mbox header alone does not).
func (b *dsnBlock) useful() bool {
	_, _, ok := enhancedAt(b.status, 0)
	return ok || b.diag != ""
}

// set records one unfolded field line; it reports whether the line was a
// field explain knows.
func (b *dsnBlock) set(line string) bool {
	c := strings.IndexByte(line, ':')
	if c <= 0 {
		return false
	}
	name := lowerASCII(strings.TrimSpace(line[:c]))
	val := strings.TrimSpace(line[c+1:])
	switch name {
	case "final-recipient":
		b.recipient = afterType(val)
	case "original-recipient":
		if b.recipient == "" {
			b.recipient = afterType(val)
		}
	case "action":
		b.action = lowerASCII(val)
	case "status":
		if f := strings.Fields(val); len(f) > 0 {
			b.status = f[0] // "5.1.1 (user unknown)": the code only
		}
	case "remote-mta":
		b.remote = afterType(val)
	case "diagnostic-code":
		if k := strings.IndexByte(val, ';'); k >= 0 {
			b.diagType = lowerASCII(strings.TrimSpace(val[:k]))
			b.diag = strings.TrimSpace(val[k+1:])
		} else {
			b.diag = val
		}
	default:
		// Some MTAs (Yahoo's X-Supplementary-Info) carry the reply in a
		// non-standard field: "<mta #5.0.0 smtp; 554 ...>".
		if k := strings.Index(lowerASCII(val), "smtp;"); k >= 0 && b.diag == "" && strings.HasPrefix(name, "x-") {
			b.diag = strings.TrimSpace(strings.TrimSuffix(val[k+len("smtp;"):], ">"))
			return true
		}
		return false
	}
	return true
}

// afterType strips the "rfc822;" / "dns;" type of an address-type field
// (RFC 3464 section 2.1.2).
func afterType(v string) string {
	if k := strings.IndexByte(v, ';'); k >= 0 {
		return strings.TrimSpace(v[k+1:])
	}
	return v
}

// parsed turns a block into the classifier's input form. Action gives the
// hint (RFC 3464 section 2.3.3: "delayed" means the MTA keeps trying,
// "failed" that it gave up); Status is the DSN's own enhanced code.
func (b *dsnBlock) parsed() Parsed {
	p := Parsed{Format: "dsn", Recipient: b.recipient, Remote: b.remote}
	switch b.action {
	case "delayed":
		p.Hint = HintDeferred
	case "failed":
		p.Hint = HintFailed
	case "delivered", "relayed", "expanded":
		p.Hint = HintSent
	}
	if b.diag != "" {
		if b.diagType == "x-postfix" {
			parsePostfixDiag(&p, b.diag)
		} else {
			r := extractReply(b.diag)
			p.Code, p.Enhanced, p.Text = r.Code, r.Enhanced, r.Text
		}
	}
	if _, _, ok := enhancedAt(b.status, 0); ok {
		p.Enhanced = b.status
	}
	if p.Remote == "" {
		p.Remote = b.remote
	}
	return p
}

// extractDSNFields handles one pasted block of DSN fields.
func extractDSNFields(s string) Parsed {
	var b dsnBlock
	lines := unfold(s)
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		// A Diagnostic-Code pasted without its fold indentation
		// ("...connect to\n192.0.2.1[192.0.2.1]: No route to host"): a
		// following line that is not itself a field continues it.
		if strings.HasPrefix(lowerASCII(line), "diagnostic-code:") {
			for i+1 < len(lines) && lines[i+1] != "" && !looksLikeField(lines[i+1]) {
				line += " " + strings.TrimSpace(lines[i+1])
				i++
			}
		}
		b.set(line)
	}
	return b.parsed()
}

// looksLikeField reports whether line starts with a header field name
// ("Status:", "X-Postfix-Queue-ID:"): letters, digits and '-' before a colon.
func looksLikeField(line string) bool {
	k := strings.IndexByte(line, ':')
	if k <= 0 {
		return false
	}
	for _, c := range line[:k] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// unfold joins RFC 5322 folded header lines (a line starting with white
// space continues the previous one) and drops CRs.
func unfold(s string) []string {
	var out []string
	for _, line := range strings.Split(strings.ReplaceAll(s, "\r", ""), "\n") {
		if line != "" && (line[0] == ' ' || line[0] == '\t') && len(out) > 0 && out[len(out)-1] != "" {
			out[len(out)-1] += " " + strings.TrimSpace(line)
			continue
		}
		out = append(out, line)
	}
	return out
}
