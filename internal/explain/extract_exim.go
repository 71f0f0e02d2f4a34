package explain

import "strings"

// isEximLine recognises Exim main-log delivery lines ("==" deferred, "**"
// failed) and the wording Exim uses in logs and bounces for remote replies.
func isEximLine(lower string) bool {
	// One cheap gate first: every form below contains '=', '*', "error
	// from remote mail", "defer (" or "rejected ".
	if !strings.Contains(lower, "==") && !strings.Contains(lower, "**") &&
		!strings.Contains(lower, "remote mail") && !strings.Contains(lower, "rejected ") && !strings.Contains(lower, "defer (") {
		return false
	}
	return eximFlag(lower, "==") || eximFlag(lower, "**") ||
		strings.Contains(lower, "smtp error from remote mail") ||
		strings.Contains(lower, " defer (") ||
		strings.Contains(lower, "rejected rcpt ") || strings.Contains(lower, "rejected mail ") ||
		strings.Contains(lower, "rejected ehlo") || strings.Contains(lower, "rejected helo") ||
		strings.Contains(lower, "rejected after data")
}

// extractExim handles
//
//	2024-01-01 10:00:00 1rAbc-000 == a@b R=dnslookup T=remote_smtp defer (-44) H=mx.b [1.2.3.4]: SMTP error from remote mail server after RCPT TO:<a@b>: 450 4.7.1 ...
//	2024-01-01 10:00:00 1rAbc-000 ** a@b R=dnslookup T=remote_smtp H=mx.b [1.2.3.4]: SMTP error from remote mail server after end of data: 550 ...
//	2024-01-01 10:00:00 1rAbc-000 == a@b R=dnslookup T=remote_smtp defer (110): Connection timed out
//	2024-01-01 10:00:00 H=(helo) [1.2.3.4] F=<s> temporarily rejected RCPT <r>: greylisted
//
// (Exim specification, chapter "Log files", "Log message flags": "==" a
// delivery deferred, "**" a delivery failed.)
func extractExim(s, lower string) Parsed {
	p := Parsed{Format: "exim"}
	switch {
	case eximFlag(lower, "**"):
		p.Hint = HintFailed
	case eximFlag(lower, "==") || strings.Contains(lower, " defer ("):
		p.Hint = HintDeferred
	case strings.Contains(lower, "temporarily rejected"):
		p.Hint = HintDeferred
	}
	if k := strings.Index(s, "H="); k >= 0 && (k == 0 || s[k-1] == ' ') {
		h := s[k+2:]
		end := strings.IndexAny(h, " :")
		raw := h
		if end >= 0 {
			raw = h[:end]
		}
		rest := h[len(raw):]
		host := strings.Trim(raw, "()") // "(helo)": the unverified HELO name
		if strings.HasPrefix(rest, " [") {
			if e := strings.IndexByte(rest, ']'); e > 0 {
				host += rest[1 : e+1]
			}
		}
		p.Remote = host
	}
	body := s
	if k := strings.Index(lower, "smtp error from remote mail"); k >= 0 {
		body = s[k:]
		bl := lower[k:]
		if a := strings.Index(bl, " after "); a >= 0 {
			p.Stage = stageFromText(bl[a:])
			// The reply follows "after RCPT TO:<a@b>: " or "after end of data: ".
			reply := afterCommand(body[a+len(" after "):])
			if p.Remote == "" {
				p.Remote = bounceHost(reply)
			}
			r := extractReply(reply)
			p.Code, p.Enhanced, p.Text = r.Code, r.Enhanced, r.Text
			return p
		}
	}
	for _, marker := range []string{"rejected rcpt ", "rejected mail ", "rejected after data", "rejected ehlo", "rejected helo", "rejected connection"} {
		if k := strings.Index(lower, marker); k >= 0 {
			p.Stage = stageFromText(lower[k:])
			rest := s[k:]
			if c := strings.Index(rest, ": "); c >= 0 {
				rest = rest[c+2:]
			}
			r := extractReply(rest)
			p.Code, p.Enhanced, p.Text = r.Code, r.Enhanced, r.Text
			return p
		}
	}
	// "defer (110): Connection timed out", "** a@b: Unrouteable address":
	// the text after the last "): " or the address's ": ".
	if k := strings.Index(lower, "defer ("); k >= 0 {
		rest := s[k:]
		if c := strings.Index(rest, "): "); c >= 0 {
			rest = rest[c+3:]
		}
		if h := strings.Index(rest, "H="); h == 0 {
			if c := strings.Index(rest, "]: "); c >= 0 {
				rest = rest[c+3:]
			}
		}
		r := extractReply(rest)
		p.Code, p.Enhanced, p.Text = r.Code, r.Enhanced, r.Text
		return p
	}
	rest := body
	if c := strings.LastIndex(rest, "]: "); c >= 0 {
		rest = rest[c+3:]
	} else if m := markerEnd(rest); m >= 0 {
		rest = rest[m:]
		if c := strings.Index(rest, ": "); c >= 0 {
			rest = rest[c+2:]
		}
	}
	r := extractReply(rest)
	p.Code, p.Enhanced, p.Text = r.Code, r.Enhanced, r.Text
	return p
}

// afterCommand skips "RCPT TO:<a@b>: " / "MAIL FROM:<s> SIZE=123: " /
// "end of data: " to the start of the reply.
func afterCommand(s string) string {
	s = strings.Replace(s, ">:\n", ">: ", 1)
	s = strings.Replace(s, ":\n", ": ", 1)
	if k := strings.Index(s, ">: "); k >= 0 && k < 400 {
		if !strings.Contains(s[:k], ": ") || strings.Index(s[:k], ": ") > strings.Index(s[:k], "<") {
			return s[k+3:]
		}
	}
	if k := strings.Index(s, ": "); k >= 0 {
		return s[k+2:]
	}
	return s
}

// eximFlag reports whether lower has Exim's delivery flag f ("==" or "**")
// at the start or after a space, followed by the recipient: an address, a
// file or a pipe. Sendmail's "** THIS IS A WARNING MESSAGE ONLY **" banner
// (a delay notice) is not a failed delivery.
func eximFlag(lower, f string) bool {
	for i := 0; i < len(lower); {
		k := strings.Index(lower[i:], f+" ")
		if k < 0 {
			return false
		}
		k += i
		if k == 0 || lower[k-1] == ' ' {
			tok := lower[k+len(f)+1:]
			if e := strings.IndexAny(tok, " \t\n"); e >= 0 {
				tok = tok[:e]
			}
			if strings.ContainsAny(tok, "@/|<") {
				return true
			}
		}
		i = k + len(f)
	}
	return false
}

// markerEnd is the index just after an Exim "==" or "**" flag, -1 if none.
func markerEnd(s string) int {
	for _, m := range []string{" == ", " ** "} {
		if k := strings.Index(s, m); k >= 0 {
			return k + len(m)
		}
	}
	if strings.HasPrefix(s, "== ") || strings.HasPrefix(s, "** ") {
		return 3
	}
	return -1
}

// bounceHost reads the host of an Exim bounce, where it follows the
// command ("SMTP error from remote mail server after RCPT TO:<a@b>:\n
// host mx2.hotmail.com [65.55.37.72]: 550 ..."): "mx2.hotmail.com[65.55.37.72]",
// "" if the text does not start with "host ".
func bounceHost(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(lowerASCII(s), "host ") {
		return ""
	}
	s = s[len("host "):]
	end := strings.IndexAny(s, " :\n")
	if end <= 0 || !strings.Contains(s[:end], ".") {
		return ""
	}
	host, rest := s[:end], s[end:]
	if strings.HasPrefix(rest, " [") {
		if e := strings.IndexByte(rest, ']'); e > 0 {
			host += rest[1 : e+1]
		}
	}
	return host
}
