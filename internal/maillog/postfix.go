package maillog

import (
	"strconv"
	"strings"
)

// parsePostfix parses the message part of a Postfix log line (after
// "postfix/daemon[pid]: "). Formats follow the Postfix sources
// (global/log_adhoc.c for "to=..., status=...", smtpd/smtpd_check.c for
// rejects, cleanup/cleanup_message.c for header/body checks,
// qmgr/qmgr_active.c for "removed" and "status=expired") and the lines
// quoted in testdata/postfix/*.txt with their sources.
func parsePostfix(m string, ev *Event) bool {
	if len(m) == 0 {
		return false
	}
	if ev.Daemon == "postscreen" && isUpper(m[0]) && !strings.HasPrefix(m, "NOQUEUE: ") {
		return parsePostscreen(m, ev)
	}
	switch m[0] {
	case 'w', 'e', 'f', 'p':
		if lvl, rest, ok := severity(m); ok {
			return parseWarning(lvl, rest, ev)
		}
	case 'c':
		if strings.HasPrefix(m, "connect from ") {
			ev.Kind = KindConnect
			setClient(ev, m[len("connect from "):])
			return true
		}
		if strings.HasPrefix(m, "connect to ") {
			// smtp/lmtp: "connect to host[ip]:25: Connection timed out"
			rest := m[len("connect to "):]
			k := strings.Index(rest, ": ")
			if k < 0 {
				return false
			}
			ev.Kind = KindConnectError
			ev.Relay = rest[:k]
			ev.Text = rest[k+2:]
			return true
		}
	case 'd':
		if strings.HasPrefix(m, "disconnect from ") {
			ev.Kind = KindDisconnect
			rest := m[len("disconnect from "):]
			if sp := strings.IndexByte(rest, ' '); sp >= 0 {
				ev.Counters = rest[sp+1:]
				rest = rest[:sp]
			}
			setClient(ev, rest)
			return true
		}
	case 'l', 't':
		if strings.HasPrefix(m, "lost connection after ") || strings.HasPrefix(m, "timeout after ") {
			ev.Kind = KindLostConnection
			rest := m[strings.Index(m, "after ")+6:]
			f := strings.Index(rest, " from ")
			if f < 0 {
				return false
			}
			ev.Stage = rest[:f]
			c := rest[f+6:]
			if k := strings.Index(c, ": "); k >= 0 {
				ev.Text = c[k+2:]
				c = c[:k]
			}
			setClient(ev, c)
			return true
		}
	case 'N':
		if strings.HasPrefix(m, "NOQUEUE: ") {
			return parseAction(m[len("NOQUEUE: "):], ev)
		}
	}
	if k := strings.Index(m, " TLS connection established "); k > 0 && k < 20 {
		ev.Kind = KindTLS
		ev.TLS = m[:k]
		rest := m[k+len(" TLS connection established "):]
		var peer string
		switch {
		case strings.HasPrefix(rest, "to "):
			peer = rest[3:]
		case strings.HasPrefix(rest, "from "):
			peer = rest[5:]
		default:
			return false
		}
		if c := strings.Index(peer, ": "); c >= 0 {
			ev.Text = peer[c+2:]
			peer = peer[:c]
		}
		if rest[0] == 't' {
			ev.Relay = peer
		} else {
			setClient(ev, peer)
		}
		return true
	}
	n := queueIDLen(m)
	if n == 0 {
		ev.Kind = KindOther
		ev.Text = m
		return true
	}
	ev.QueueID = m[:n]
	r := m[n+2:]
	if r == "" {
		return false
	}
	switch r[0] {
	case 't':
		if strings.HasPrefix(r, "to=<") {
			return parseDelivery(r, ev)
		}
	case 'c':
		if strings.HasPrefix(r, "client=") {
			return parseClient(r, ev)
		}
	case 'm':
		if strings.HasPrefix(r, "message-id=") {
			ev.Kind = KindMessageID
			v := r[len("message-id="):]
			if len(v) >= 2 && v[0] == '<' && v[len(v)-1] == '>' {
				v = v[1 : len(v)-1]
			}
			ev.MessageID = v
			return true
		}
	case 'f':
		if strings.HasPrefix(r, "from=<") {
			return parseFrom(r, ev)
		}
	case 'u':
		if strings.HasPrefix(r, "uid=") {
			// pickup: "uid=1003 from=<user>"
			ev.Kind = KindPickup
			v := r[4:]
			sp := strings.IndexByte(v, ' ')
			if sp < 0 {
				return false
			}
			ev.UID, _ = atoi(v[:sp])
			v = v[sp+1:]
			if !strings.HasPrefix(v, "from=<") {
				return false
			}
			addr, _, ok := angle(v[5:])
			if !ok {
				return false
			}
			ev.From = addr
			return true
		}
	case 'r':
		switch r {
		case "removed":
			ev.Kind = KindRemoved
			return true
		case "released from hold":
			ev.Kind = KindRelease
			return true
		case "requeued":
			ev.Kind = KindRequeue
			return true
		}
	case 'p':
		if r == "placed on hold" {
			ev.Kind = KindHold
			return true
		}
	case 's':
		if strings.HasPrefix(r, "sender ") {
			if k := strings.Index(r, " notification: "); k > 0 {
				ev.Kind = KindBounce
				ev.BounceType = r[:k+len(" notification")]
				ev.NewQueueID = r[k+len(" notification: "):]
				return true
			}
		}
	}
	if strings.HasPrefix(r, "postmaster ") {
		if k := strings.Index(r, " notification: "); k > 0 {
			ev.Kind = KindBounce
			ev.BounceType = r[:k+len(" notification")]
			ev.NewQueueID = r[k+len(" notification: "):]
			return true
		}
	}
	if c := strings.Index(r, ": "); c > 0 && isAction(r[:c]) {
		return parseAction(r, ev)
	}
	ev.Kind = KindOther
	ev.Text = r
	if strings.HasPrefix(r, "host ") {
		if k := strings.Index(r, " said: "); k > 0 {
			ev.Relay = r[5:k]
			ev.Reply = r[k+len(" said: "):]
			ev.Code, ev.DSN = replyCodes(ev.Reply)
		}
	}
	return true
}

// severity splits "warning: text" and friends.
func severity(m string) (string, string, bool) {
	for _, l := range [...]string{"warning", "error", "fatal", "panic"} {
		if len(m) > len(l)+2 && m[:len(l)] == l && m[len(l)] == ':' && m[len(l)+1] == ' ' {
			return l, m[len(l)+2:], true
		}
	}
	return "", "", false
}

func parseWarning(lvl, rest string, ev *Event) bool {
	ev.Kind = KindWarning
	ev.Action = lvl
	ev.Text = rest
	// smtpd: "warning: unknown[192.0.2.1]: SASL LOGIN authentication failed: ..."
	if k := strings.Index(rest, ": SASL "); k > 0 && strings.Contains(rest[k:], " authentication failed") {
		ev.Kind = KindAuthFailed
		setClient(ev, rest[:k])
		t := rest[k+2:]
		if sp := strings.IndexByte(t[5:], ' '); sp > 0 {
			ev.SASLMethod = t[5 : 5+sp]
		}
		return true
	}
	// "warning: QUEUEID: ..." keeps the queue id.
	if n := queueIDLen(rest); n > 0 {
		ev.QueueID = rest[:n]
	}
	return true
}

// parsePostscreen: "CONNECT from [ip]:port to [ip]:25", "PASS NEW [ip]:port",
// "DNSBL rank 3 for [ip]:port", "PREGREET 11 after 0.1 from [ip]:port: EHLO ...",
// "HANGUP after 2 from [ip]:port in tests before SMTP handshake", ...
func parsePostscreen(m string, ev *Event) bool {
	ev.Kind = KindPostscreen
	ev.Text = m
	i := 0
	for i < len(m) {
		j := strings.IndexByte(m[i:], ' ')
		if j < 0 {
			j = len(m) - i
		}
		w := m[i : i+j]
		if !isVerb(w) {
			break
		}
		i += j + 1
	}
	if i == 0 {
		ev.Kind = KindOther
		return true
	}
	if i > len(m) {
		i = len(m)
	}
	ev.Action = strings.TrimSpace(m[:i])
	if ev.Action == "CONNECT" {
		ev.Kind = KindConnect
	}
	if lb := strings.IndexByte(m, '['); lb >= 0 {
		rb := strings.IndexByte(m[lb:], ']')
		if rb > 0 {
			setClient(ev, m[lb:lb+rb+1])
		}
	}
	return true
}

func isVerb(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !(isUpper(c) || c == '-') {
			return false
		}
	}
	return true
}

// queueIDLen returns n if m starts with a Postfix queue id followed by ": ":
// short ids are 6+ uppercase hex digits, long ids (enable_long_queue_ids)
// 10+ characters of [0-9A-Za-z]. 0 otherwise.
func queueIDLen(m string) int {
	i := 0
	for i < len(m) && i < 24 {
		c := m[i]
		if isDigit(c) || isUpper(c) || (c >= 'a' && c <= 'z') {
			i++
			continue
		}
		break
	}
	if i < 5 || i+1 >= len(m) || m[i] != ':' || m[i+1] != ' ' {
		return 0
	}
	if m[:i] == "NOQUEUE" {
		return 0
	}
	// Reject plain words ("warning", "statistics"): a queue id has a digit
	// or is all-uppercase hex.
	hasDigit := false
	for j := 0; j < i; j++ {
		if isDigit(m[j]) {
			hasDigit = true
			break
		}
	}
	if !hasDigit {
		for j := 0; j < i; j++ {
			if c := m[j]; !(c >= 'A' && c <= 'F') {
				return 0
			}
		}
	}
	return i
}

// setClient stores "host[ip]", "host[ip]:port" or "[ip]:port" as Client
// ("host[ip]", port dropped) and ClientIP.
func setClient(ev *Event, s string) {
	lb := strings.IndexByte(s, '[')
	rb := strings.LastIndexByte(s, ']')
	if lb >= 0 && rb > lb {
		ev.ClientIP = s[lb+1 : rb]
		s = s[:rb+1]
	}
	ev.Client = s
}

// parseClient: "client=host[ip]" with optional ", sasl_method=PLAIN,
// sasl_username=user", ", orig_queue_id=ID, orig_client=...".
func parseClient(r string, ev *Event) bool {
	ev.Kind = KindClient
	r = r[len("client="):]
	c := r
	if k := strings.Index(r, ", "); k >= 0 {
		c, r = r[:k], r[k+2:]
	} else {
		r = ""
	}
	setClient(ev, c)
	for r != "" {
		var kv string
		if k := strings.Index(r, ", "); k >= 0 {
			kv, r = r[:k], r[k+2:]
		} else {
			kv, r = r, ""
		}
		eq := strings.IndexByte(kv, '=')
		if eq < 0 {
			continue
		}
		switch kv[:eq] {
		case "sasl_method":
			ev.SASLMethod = kv[eq+1:]
		case "sasl_username":
			ev.SASLUser = kv[eq+1:]
		case "orig_queue_id":
			ev.NewQueueID = kv[eq+1:]
		}
	}
	return true
}

// parseFrom: qmgr "from=<a>, size=N, nrcpt=N (queue active)" and
// "from=<a>, status=expired, returned to sender".
func parseFrom(r string, ev *Event) bool {
	addr, rest, ok := angle(r[5:])
	if !ok {
		return false
	}
	ev.From = addr
	switch {
	case strings.HasPrefix(rest, ", size="):
		ev.Kind = KindQueued
		rest = rest[len(", size="):]
		k := strings.IndexByte(rest, ',')
		if k < 0 {
			return false
		}
		sz, ok := atoi(rest[:k])
		if !ok {
			return false
		}
		ev.Size = int64(sz)
		rest = rest[k:]
		if strings.HasPrefix(rest, ", nrcpt=") {
			rest = rest[len(", nrcpt="):]
			e := 0
			for e < len(rest) && isDigit(rest[e]) {
				e++
			}
			ev.Nrcpt, _ = atoi(rest[:e])
			rest = rest[e:]
		}
		ev.Text = strings.TrimPrefix(rest, " ")
		return true
	case strings.HasPrefix(rest, ", status=expired"):
		ev.Kind = KindExpired
		ev.Status = "expired"
		ev.Reply = strings.TrimPrefix(rest[len(", status=expired"):], ", ")
		return true
	}
	ev.Kind = KindOther
	ev.Text = r
	return true
}

// parseDelivery parses a delivery status line (Postfix global/log_adhoc.c):
//
//	to=<a>, orig_to=<b>, relay=host[ip]:port, conn_use=N, delay=N,
//	delays=a/b/c/d, dsn=X.Y.Z, status=WORD (text)
//
// Field order is fixed by Postfix but optional fields come and go between
// versions, so fields are read by name; unknown fields are skipped. The
// status text runs to the end of the line and may itself contain ", ",
// "=" and parentheses, so it is taken last, never split.
func parseDelivery(r string, ev *Event) bool {
	addr, rest, ok := angle(r[3:])
	if !ok {
		return false
	}
	ev.Kind = KindDelivery
	ev.To = addr
	for {
		if !strings.HasPrefix(rest, ", ") {
			return false // truncated, or not a status line
		}
		rest = rest[2:]
		eq := strings.IndexByte(rest, '=')
		if eq <= 0 || strings.IndexByte(rest[:eq], ' ') >= 0 {
			return false
		}
		key, v := rest[:eq], rest[eq+1:]
		switch key {
		case "status":
			e := 0
			for e < len(v) && v[e] != ' ' && v[e] != ',' {
				e++
			}
			if e == 0 {
				return false
			}
			ev.Status = v[:e]
			t := v[e:]
			switch {
			case strings.HasPrefix(t, " ("):
				t = t[2:]
				if n := len(t); n > 0 && t[n-1] == ')' {
					t = t[:n-1]
				}
			case strings.HasPrefix(t, ", "):
				t = t[2:]
			default:
				t = strings.TrimPrefix(t, " ")
			}
			ev.Reply = t
			code, enh := replyCodes(t)
			ev.Code = code
			if ev.DSN == "" {
				ev.DSN = enh
			}
			return true
		case "orig_to":
			if !strings.HasPrefix(v, "<") {
				return false
			}
			a, r2, ok := angle(v)
			if !ok {
				return false
			}
			ev.OrigTo = a
			rest = r2
			continue
		}
		val := v
		if k := strings.Index(v, ", "); k >= 0 {
			val, rest = v[:k], v[k:]
		} else {
			return false
		}
		switch key {
		case "relay":
			ev.Relay = val
		case "conn_use":
			ev.ConnUse, _ = atoi(val)
		case "delay":
			ev.Delay, _ = parseFloat(val)
		case "delays":
			ev.Delays, ev.HasDelays = parseDelays(val)
		case "dsn":
			ev.DSN = val
		case "tls":
			ev.TLS = val
		}
	}
}

func parseDelays(s string) (Delays, bool) {
	var d [4]float64
	for i := 0; i < 4; i++ {
		k := strings.IndexByte(s, '/')
		part := s
		if i < 3 {
			if k < 0 {
				return Delays{}, false
			}
			part, s = s[:k], s[k+1:]
		}
		v, ok := parseFloat(part)
		if !ok {
			return Delays{}, false
		}
		d[i] = v
	}
	return Delays{d[0], d[1], d[2], d[3]}, true
}

// parseFloat parses Postfix's delay numbers ("0.05", "150", "2.4e+02" never
// occurs but is accepted through strconv).
func parseFloat(s string) (float64, bool) {
	var ip, fp, scale float64 = 0, 0, 1
	i := 0
	for i < len(s) && isDigit(s[i]) {
		ip = ip*10 + float64(s[i]-'0')
		i++
	}
	if i == 0 {
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			fp = fp*10 + float64(s[i]-'0')
			scale *= 10
			i++
		}
	}
	if i != len(s) {
		v, err := strconv.ParseFloat(s, 64)
		return v, err == nil
	}
	return ip + fp/scale, true
}

// angle parses "<address>" at the start of s, honouring quoted local parts
// (`<"a>b c"@example.com>`) and backslash escapes inside them; it returns
// the address without brackets and what follows the closing '>'.
func angle(s string) (string, string, bool) {
	if len(s) == 0 || s[0] != '<' {
		return "", "", false
	}
	inq := false
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch {
		case inq && c == '\\':
			i++
		case c == '"':
			inq = !inq
		case !inq && c == '>':
			return s[1:i], s[i+1:], true
		}
	}
	return "", "", false
}

// isAction reports whether w is a Postfix access/header/milter action as
// logged by smtpd, cleanup and postscreen before ": ".
func isAction(w string) bool {
	switch w {
	case "reject", "defer", "hold", "discard", "redirect", "filter", "warning", "info", "prepend",
		"replace", "reject_warning", "defer_if_permit", "defer_if_reject", "bcc", "strip",
		"milter-reject", "milter-hold", "milter-discard", "milter-header-redirect", "milter-redirect",
		"milter-defer", "proxy-reject", "proxy-accept", "header-redirect":
		return true
	}
	return false
}

// parseAction parses smtpd/cleanup/postscreen actions:
//
//	reject: RCPT from h[ip]: 450 4.7.1 <a>: text; from=<a> to=<b> proto=ESMTP helo=<h>
//	reject: RCPT from [ip]:port: 450 4.3.2 Service currently unavailable; from=<a>, to=<b>, proto=ESMTP, helo=<h>
//	milter-reject: END-OF-MESSAGE from h[ip]: 5.7.1 text; from=<a> to=<b> proto=ESMTP helo=<h>
//	reject: header Subject: x from h[ip]; from=<a> to=<b> proto=ESMTP helo=<h>: 5.7.1 text
//	reject: CONNECT from [ip]:port: too many connections
func parseAction(r string, ev *Event) bool {
	c := strings.Index(r, ": ")
	if c <= 0 || !isAction(r[:c]) {
		return false
	}
	ev.Kind = KindReject
	ev.Action = r[:c]
	rest := r[c+2:]
	k := strings.LastIndex(rest, "; from=<")
	if k < 0 {
		k = strings.LastIndex(rest, "; to=<")
	}
	pre, kv := rest, ""
	if k >= 0 {
		pre, kv = rest[:k], rest[k+2:]
	}
	tail := ""
	if kv != "" {
		tail = parseKV(kv, ev)
	}
	if strings.HasPrefix(pre, "header ") || strings.HasPrefix(pre, "body ") {
		f := strings.LastIndex(pre, " from ")
		if f < 0 {
			ev.Stage = pre
		} else {
			ev.Stage = pre[:f]
			setClient(ev, pre[f+6:])
		}
		ev.Reply = tail
	} else {
		f := strings.Index(pre, " from ")
		if f < 0 || strings.IndexByte(pre[:f], ' ') >= 0 {
			return false
		}
		ev.Stage = pre[:f]
		cl := pre[f+6:]
		if e := clientEnd(cl); e >= 0 {
			ev.Reply = strings.TrimPrefix(cl[e:], ": ")
			cl = cl[:e]
		}
		setClient(ev, cl)
		if ev.Reply == "" {
			ev.Reply = tail
		}
	}
	ev.Code, ev.DSN = replyCodes(ev.Reply)
	return true
}

// clientEnd finds the end of "host[ip]" or "[ip]:port" at the start of s.
func clientEnd(s string) int {
	rb := strings.IndexByte(s, ']')
	if rb < 0 {
		return strings.Index(s, ": ")
	}
	i := rb + 1
	if i < len(s) && s[i] == ':' && i+1 < len(s) && isDigit(s[i+1]) {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i
}

// parseKV reads "from=<a> to=<b> proto=ESMTP helo=<h>" (smtpd, cleanup) or
// the same with ", " separators (postscreen) and returns any ": text" that
// follows (cleanup header/body checks put the reply there).
func parseKV(s string, ev *Event) string {
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return ""
		}
		key := s[:eq]
		v := s[eq+1:]
		var val string
		if strings.HasPrefix(v, "<") {
			a, rest, ok := angle(v)
			if !ok {
				return ""
			}
			val, s = a, rest
		} else {
			e := 0
			for e < len(v) && v[e] != ' ' && v[e] != ',' && v[e] != ':' {
				e++
			}
			val, s = v[:e], v[e:]
		}
		switch key {
		case "from":
			ev.From = val
		case "to":
			ev.To = val
		case "proto":
			ev.Proto = val
		case "helo":
			ev.Helo = val
		}
		switch {
		case strings.HasPrefix(s, ", "):
			s = s[2:]
		case strings.HasPrefix(s, ": "):
			return s[2:]
		case strings.HasPrefix(s, " "):
			s = s[1:]
		default:
			return ""
		}
	}
	return ""
}

// replyCodes finds the SMTP reply code and enhanced status code in a reply
// or diagnostic text: "host mx said: 450 4.7.1 <a>: ..." gives (450,
// "4.7.1"); "4.7.1 text" gives (0, "4.7.1"); "connect to ...: Connection
// timed out" gives (0, "").
func replyCodes(s string) (int, string) {
	if k := strings.Index(s, " said: "); k >= 0 {
		s = s[k+len(" said: "):]
	}
	for i := 0; i+3 <= len(s); i++ {
		if i > 0 && s[i-1] != ' ' && s[i-1] != ':' && s[i-1] != '(' && s[i-1] != '"' {
			continue
		}
		c := s[i]
		if c != '2' && c != '4' && c != '5' {
			continue
		}
		if enh, n := enhancedAt(s[i:]); n > 0 {
			return 0, enh
		}
		if !isDigit(s[i+1]) || !isDigit(s[i+2]) || (i+3 < len(s) && s[i+3] != ' ' && s[i+3] != '-') {
			continue
		}
		code := int(c-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0')
		j := i + 3
		if j < len(s) {
			j++
		}
		enh, _ := enhancedAt(s[j:])
		return code, enh
	}
	return 0, ""
}

// enhancedAt parses an RFC 3463 code "c.sss.ddd" at the start of s
// followed by a space, end or punctuation.
func enhancedAt(s string) (string, int) {
	if len(s) < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.' {
		return "", 0
	}
	i := 2
	n := 0
	for i < len(s) && isDigit(s[i]) && n < 3 {
		i++
		n++
	}
	if n == 0 || i >= len(s) || s[i] != '.' {
		return "", 0
	}
	i++
	n = 0
	for i < len(s) && isDigit(s[i]) && n < 3 {
		i++
		n++
	}
	if n == 0 || (i < len(s) && (isDigit(s[i]) || s[i] == '.')) {
		return "", 0
	}
	return s[:i], i
}
