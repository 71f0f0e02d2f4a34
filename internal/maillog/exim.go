package maillog

import "strings"

// parseExim parses an Exim main log line after its timestamp (Exim
// specification, chapter "Log files": "Log line flags", "Summary of Fields
// in Log Lines"):
//
//	[pid] 1tXyz1-000000012Ab-AB <= sender H=host (helo) [ip]:port P=esmtps S=1234 id=msgid
//	1Abc12-0001AB-Cd => user@x R=dnslookup T=remote_smtp H=mx [ip] C="250 OK"
//	1Abc12-0001AB-Cd == user@x R=dnslookup T=remote_smtp defer (-53): retry time not reached
//	1Abc12-0001AB-Cd ** user@x R=... T=...: SMTP error from remote mail server after RCPT TO:<x>: 550 ...
//	1Abc12-0001AB-Cd Completed
//	H=(helo) [ip] F=<a> rejected RCPT <b>: relay not permitted
func parseExim(m string, ev *Event) bool {
	ev.MTA = MTAExim
	// optional "[pid] " (log_selector +pid)
	if len(m) > 2 && m[0] == '[' {
		rb := strings.IndexByte(m, ']')
		if rb > 1 {
			if pid, ok := atoi(m[1:rb]); ok {
				ev.PID = pid
				m = strings.TrimPrefix(m[rb+1:], " ")
			}
		}
	}
	if n := eximIDLen(m); n > 0 && (n == len(m) || m[n] == ' ') {
		ev.QueueID = m[:n]
		if n == len(m) {
			return false
		}
		return parseEximMessage(m[n+1:], ev)
	}
	if k := strings.Index(m, "rejected "); k >= 0 {
		if parseEximReject(m, k, ev) {
			return true
		}
	}
	ev.Kind = KindOther
	ev.Text = m
	return true
}

// eximIDLen recognises Exim message ids: the classic 6-6-2 form
// ("1Abc12-0001AB-Cd", base 62) and the 4.97+ 6-11-4 form
// ("1tixMn-00000000C5j-1wRa").
func eximIDLen(m string) int {
	var n int
	switch {
	case len(m) >= 16 && m[6] == '-' && m[13] == '-' && (len(m) == 16 || m[16] == ' '):
		n = 16
	case len(m) >= 23 && m[6] == '-' && m[18] == '-' && (len(m) == 23 || m[23] == ' '):
		n = 23
	default:
		return 0
	}
	for i := 0; i < n; i++ {
		c := m[i]
		if c == '-' && (i == 6 || i == n-3 || i == n-5) {
			continue
		}
		if !(isDigit(c) || isUpper(c) || (c >= 'a' && c <= 'z')) {
			return 0
		}
	}
	return n
}

func parseEximMessage(r string, ev *Event) bool {
	if len(r) >= 3 && r[2] == ' ' {
		flag := r[:2]
		switch flag {
		case "<=":
			ev.Kind = KindQueued
			ev.Flag = flag
			rest := r[3:]
			sp := strings.IndexByte(rest, ' ')
			sender := rest
			if sp >= 0 {
				sender, rest = rest[:sp], rest[sp+1:]
			} else {
				rest = ""
			}
			if sender == "<>" {
				sender = ""
			}
			ev.From = sender
			eximFields(rest, ev, true)
			return true
		case "=>", "->", "*>", ">>", "==", "**":
			ev.Kind = KindDelivery
			ev.Flag = flag
			switch flag {
			case "==":
				ev.Status = "deferred"
			case "**":
				ev.Status = "bounced"
			default:
				ev.Status = "sent"
			}
			rest := r[3:]
			sp := strings.IndexByte(rest, ' ')
			if sp < 0 {
				ev.To = strings.TrimSuffix(rest, ":")
				return ev.To != ""
			}
			ev.To, rest = rest[:sp], rest[sp+1:]
			if strings.HasSuffix(ev.To, ":") {
				// "** addr: text" without fields
				ev.To = ev.To[:len(ev.To)-1]
				ev.Reply = rest
			} else {
				// optional "(parent)" and "<original>" after the address
				for len(rest) > 0 && (rest[0] == '<' || rest[0] == '(') {
					end := strings.IndexByte(rest, ' ')
					tok := rest
					if end >= 0 {
						tok, rest = rest[:end], rest[end+1:]
					} else {
						rest = ""
					}
					if tok[0] == '<' {
						ev.OrigTo = strings.TrimSuffix(strings.TrimPrefix(tok, "<"), ">")
					}
				}
				text := eximFields(rest, ev, false)
				if ev.Reply == "" {
					ev.Reply = text
				}
			}
			ev.Code, ev.DSN = replyCodes(ev.Reply)
			return true
		}
	}
	switch {
	case strings.HasPrefix(r, "Completed"):
		ev.Kind = KindRemoved
		ev.Text = r
		return true
	case strings.HasPrefix(r, "Frozen"):
		ev.Kind = KindHold
		ev.Text = r
		return true
	case strings.HasPrefix(r, "Unfrozen"):
		ev.Kind = KindRelease
		ev.Text = r
		return true
	}
	if k := strings.Index(r, "rejected "); k >= 0 && parseEximReject(r, k, ev) {
		return true
	}
	ev.Kind = KindOther
	ev.Text = r
	if strings.HasPrefix(r, "H=") {
		text := eximFields(r, ev, false)
		ev.Reply = text
		ev.Code, ev.DSN = replyCodes(text)
	}
	return true
}

// parseEximReject: "H=(helo) [ip] F=<a> rejected RCPT <b>: text" and the
// "temporarily rejected" form; k is the index of "rejected ".
func parseEximReject(m string, k int, ev *Event) bool {
	head := m[:k]
	rest := m[k+len("rejected "):]
	ev.Kind = KindReject
	ev.Action = "reject"
	if strings.HasSuffix(head, "temporarily ") {
		ev.Action = "defer"
		head = head[:len(head)-len("temporarily ")]
	}
	eximFields(head, ev, true)
	sp := strings.IndexByte(rest, ' ')
	if sp < 0 {
		ev.Stage = strings.TrimSuffix(rest, ":")
		return true
	}
	ev.Stage = rest[:sp]
	rest = rest[sp+1:]
	if strings.HasPrefix(rest, "<") {
		if a, r2, ok := angle(rest); ok {
			ev.To = a
			rest = r2
		}
	}
	ev.Reply = strings.TrimPrefix(strings.TrimPrefix(rest, ":"), " ")
	ev.Code, ev.DSN = replyCodes(ev.Reply)
	return true
}

// eximFields reads "K=value" fields (values may be "quoted" and H=/I= may
// be followed by "(helo)" and "[ip]:port" tokens) until the end or until a
// field ends in ':' (what follows is the error text, returned). arrival
// selects the meaning of ambiguous fields (H is the client on "<=" lines,
// the relay on deliveries; T is the subject on "<=", the transport
// otherwise).
func eximFields(s string, ev *Event, arrival bool) string {
	for {
		for len(s) > 0 && s[0] == ' ' {
			s = s[1:]
		}
		if s == "" {
			return ""
		}
		eq := eximKeyLen(s)
		if eq == 0 {
			// a bare word: "defer (N): text", "from <a> for b c", or text
			sp := strings.IndexByte(s, ' ')
			tok := s
			if sp >= 0 {
				tok = s[:sp]
			}
			switch {
			case tok == "defer" && sp >= 0 && strings.HasPrefix(s[sp+1:], "("):
				s = s[sp+1:]
				rp := strings.IndexByte(s, ')')
				if rp < 0 {
					return s
				}
				ev.Text = "defer " + s[:rp+1]
				s = s[rp+1:]
				if strings.HasPrefix(s, ":") {
					return strings.TrimPrefix(s[1:], " ")
				}
				continue
			case arrival && tok == "for":
				return ""
			case arrival && tok == "from":
				s = s[sp+1:]
				if sp := strings.IndexByte(s, ' '); sp >= 0 {
					s = s[sp+1:]
				} else {
					s = ""
				}
				continue
			case strings.HasSuffix(tok, ":"):
				if sp < 0 {
					return ""
				}
				return s[sp+1:]
			}
			return s
		}
		key := s[:eq]
		s = s[eq+1:]
		var val string
		if strings.HasPrefix(s, "\"") {
			i := 1
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(s) {
				val, s = s[1:], ""
			} else {
				val, s = s[1:i], s[i+1:]
			}
		} else {
			sp := strings.IndexByte(s, ' ')
			if sp < 0 {
				val, s = s, ""
			} else {
				val, s = s[:sp], s[sp:]
			}
		}
		if key == "H" || key == "I" {
			// "host (helo) [ip]:port" spans tokens
			for len(s) > 1 && s[0] == ' ' && (s[1] == '[' || s[1] == '(') {
				sp := strings.IndexByte(s[1:], ' ')
				if sp < 0 {
					val, s = val+s, ""
					break
				}
				val, s = val+s[:sp+1], s[sp+1:]
			}
		}
		colon := false
		if strings.HasSuffix(val, ":") && !strings.HasPrefix(s, "\"") {
			val = val[:len(val)-1]
			colon = true
		} else if strings.HasPrefix(s, ":") {
			s = s[1:]
			colon = true
		}
		switch key {
		case "H":
			if arrival {
				ev.Client = val
				if lb := strings.LastIndexByte(val, '['); lb >= 0 {
					if rb := strings.IndexByte(val[lb:], ']'); rb > 0 {
						ev.ClientIP = val[lb+1 : lb+rb]
					}
				}
			} else {
				ev.Relay = val
			}
		case "P":
			if arrival {
				ev.Proto = val
			}
		case "S":
			if n, ok := atoi(val); ok {
				ev.Size = int64(n)
			}
		case "id", "id*":
			ev.MessageID = val
		case "A":
			if c := strings.IndexByte(val, ':'); c >= 0 {
				ev.SASLMethod, ev.SASLUser = val[:c], val[c+1:]
			} else {
				ev.SASLMethod = val
			}
		case "R":
			if arrival {
				ev.NewQueueID = val // reference to the message this bounce is about
			} else {
				ev.Router = val
			}
		case "T":
			if !arrival {
				ev.Transport = val
			}
		case "C":
			ev.Reply = val
		case "X":
			ev.TLS = val
		case "F":
			if !arrival || ev.From == "" {
				ev.From = strings.TrimSuffix(strings.TrimPrefix(val, "<"), ">")
			}
		}
		if colon {
			return strings.TrimPrefix(s, " ")
		}
	}
}

// eximKeyLen returns the index of '=' if s starts with an Exim field name
// (A, C, CV, D, DN, DT, F, H, I, K, L, M8S, P, PRX, Q, QT, R, RT, S, SNI,
// ST, T, U, X, id, Ci...), else 0.
func eximKeyLen(s string) int {
	for i := 0; i < len(s) && i < 5; i++ {
		c := s[i]
		if c == '=' {
			if i == 0 {
				return 0
			}
			if k := s[:i]; k == "id" || k == "id*" || k == "Ci" || isUpper(s[0]) {
				return i
			}
			return 0
		}
		if !(isUpper(c) || isDigit(c) || (c >= 'a' && c <= 'z') || c == '*') {
			return 0
		}
	}
	return 0
}
