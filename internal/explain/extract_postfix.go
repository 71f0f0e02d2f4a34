package explain

import "strings"

// extractPostfixStatus handles Postfix smtp/lmtp delivery lines:
//
//	postfix/smtp[123]: ID: to=<a@b>, relay=mx.b[1.2.3.4]:25, delay=1, delays=..,
//	    dsn=4.7.1, status=deferred (host mx.b[1.2.3.4] said: 450 4.7.1 ... (in reply to RCPT TO command))
//
// The status word is the hint, the parenthesised text the diagnostic, and
// dsn= the enhanced code Postfix computed (used when the reply has none).
func extractPostfixStatus(s, lower string) Parsed {
	p := Parsed{Format: "postfix"}
	i := strings.Index(lower, "status=")
	word := lower[i+len("status="):]
	if j := strings.IndexAny(word, " ,(\t"); j >= 0 {
		word = word[:j]
	}
	switch word {
	case "deferred":
		p.Hint = HintDeferred
	case "bounced", "undeliverable":
		p.Hint = HintFailed
	case "expired":
		p.Hint = HintExpired
	case "sent", "delivered", "deliverable":
		p.Hint = HintSent
	}
	relay := fieldValue(s, lower, "relay=")
	dsn := fieldValue(s, lower, "dsn=")
	diag := ""
	if k := strings.IndexByte(s[i:], '('); k >= 0 {
		diag = s[i+k+1:]
		diag = strings.TrimSpace(diag)
		diag = strings.TrimSuffix(diag, ")")
	} else if word == "expired" {
		// qmgr's "status=expired, returned to sender" has no diagnostic
		// in brackets: the words after the status are its text.
		diag = strings.TrimSpace(strings.TrimLeft(s[i+len("status=")+len(word):], ", "))
	}
	parsePostfixDiag(&p, diag)
	if p.Remote == "" && relay != "" && relay != "none" {
		p.Remote = trimPort(relay)
	}
	// dsn= is the status Postfix itself assigned to this delivery (it may
	// differ from the quoted reply's: "dsn=4.7.1 ... refused to talk to me:
	// 554 5.7.1" when postfix/error defers); it is the line's enhanced code.
	if _, _, ok := enhancedAt(dsn, 0); ok {
		p.Enhanced = dsn
	}
	return p
}

// isSmtpdVerbReject: "proxy-reject: END-OF-MESSAGE: 451 ..." (Postfix
// smtpd with a before-queue content filter logs no client after the verb).
func isSmtpdVerbReject(lower string) bool {
	k := strings.Index(lower, "reject: ")
	rest := lower[k+len("reject: "):]
	sp := strings.IndexAny(rest, " :")
	return sp > 0 && rest[sp] == ':' && stageFromVerb(rest[:sp]) != ""
}

// parsePostfixDiag reads the text Postfix puts in status=...(TEXT), in a
// bounce's Diagnostic-Code: X-Postfix; TEXT, or after "delivery temporarily
// suspended:" (smtp(8) and the queue manager's dead-destination cache).
func parsePostfixDiag(p *Parsed, diag string) {
	for {
		l := lowerASCII(diag)
		if strings.HasPrefix(l, "delivery temporarily suspended: ") {
			diag = diag[len("delivery temporarily suspended: "):]
			if p.Hint == HintNone {
				p.Hint = HintDeferred // always a deferral (qmgr/smtp dead-destination cache)
			}
			continue
		}
		break
	}
	l := lowerASCII(diag)
	if stage := stageFromText(l); stage != "" {
		p.Stage = stage
	}
	// host H[IP] said: REPLY (in reply to X command)
	// host H[IP] refused to talk to me: REPLY
	if strings.HasPrefix(l, "host ") {
		rest := diag[len("host "):]
		if sp := strings.IndexByte(rest, ' '); sp > 0 && strings.ContainsAny(rest[:sp], ".[") {
			p.Remote = rest[:sp]
		}
		for _, sep := range []string{" said: ", " refused to talk to me: ", " said:"} {
			if k := strings.Index(lowerASCII(rest), sep); k >= 0 {
				body := rest[k+len(sep):]
				if m := strings.LastIndex(lowerASCII(body), " (in reply to "); m >= 0 {
					body = body[:m]
				}
				r := extractReply(body)
				p.Code, p.Enhanced, p.Text = r.Code, r.Enhanced, r.Text
				return
			}
		}
	}
	// connect to H[IP]:25: Connection timed out
	// lost connection with H[IP] while ...
	// conversation with H[IP] timed out while ...
	// TLS is required, but host H[IP] refused to start TLS: ...
	for _, lead := range []string{"connect to ", "lost connection with ", "conversation with ", "but host ", "host "} {
		if k := strings.Index(l, lead); k >= 0 {
			rest := diag[k+len(lead):]
			if end := strings.IndexAny(rest, " "); end > 0 {
				// Only a host-looking token ("or" in "Host or domain name
				// not found" is not one).
				if tok := rest[:end]; strings.ContainsAny(tok, ".[") {
					p.Remote = trimPort(strings.TrimSuffix(tok, ":"))
				}
			}
			break
		}
	}
	r := extractReply(diag)
	p.Code, p.Enhanced, p.Text = r.Code, r.Enhanced, r.Text
	if r.Code == 0 && r.Enhanced == "" {
		p.Text = collapseSpace(diag)
	}
}

// extractPostfixReject handles smtpd(8) rejects:
//
//	NOQUEUE: reject: RCPT from host[ip]: 450 4.7.1 <x>: ...; from=<s> to=<r> proto=ESMTP helo=<h>
//
// The verb after "reject:" is the protocol stage; host[ip] is the client
// (the remote side from this server's point of view).
func extractPostfixReject(s, lower string) Parsed {
	p := Parsed{Format: "postfix-smtpd"}
	i := strings.Index(lower, "reject: ")
	rest := s[i+len("reject: "):]
	if sp := strings.IndexByte(rest, ' '); sp > 0 {
		p.Stage = stageFromVerb(strings.TrimSuffix(rest[:sp], ":"))
		rest = rest[sp+1:]
	}
	if strings.HasPrefix(lowerASCII(rest), "from ") {
		rest = rest[len("from "):]
		// host[ip] is one token, usually followed by ": " (some log
		// rewriters drop the colon: "from unknown[ip] 450 4.7.25 ...").
		if k := strings.IndexByte(rest, ' '); k > 0 && strings.HasSuffix(strings.TrimSuffix(rest[:k], ":"), "]") {
			p.Remote = strings.TrimSuffix(rest[:k], ":")
			rest = rest[k+1:]
		} else if k := strings.Index(rest, ": "); k > 0 {
			p.Remote = rest[:k]
			rest = rest[k+2:]
		}
	}
	// The reply ends where Postfix appends "; from=<...> to=<...> proto=...".
	if k := strings.Index(rest, "; from=<"); k >= 0 {
		rest = rest[:k]
	}
	r := extractReply(rest)
	p.Code, p.Enhanced, p.Text = r.Code, r.Enhanced, r.Text
	return p
}

// fieldValue returns the value of a "name=value," log field.
func fieldValue(s, lower, name string) string {
	i := strings.Index(lower, name)
	if i < 0 || (i > 0 && lower[i-1] != ' ' && lower[i-1] != ',' && lower[i-1] != '\t') {
		return ""
	}
	v := s[i+len(name):]
	if j := strings.IndexAny(v, ", \t"); j >= 0 {
		v = v[:j]
	}
	return v
}

// trimPort turns "mx.b[1.2.3.4]:25" into "mx.b[1.2.3.4]".
func trimPort(h string) string {
	if k := strings.LastIndexByte(h, ']'); k >= 0 {
		return h[:k+1]
	}
	return h
}
