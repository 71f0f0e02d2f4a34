package explain

import (
	"strings"

	"github.com/tempfail/tempfail/internal/reply"
)

// Parsed is one input reduced to what the classifier needs. Every field is
// optional: a bare "Connection timed out" has only Text.
type Parsed struct {
	Code     int    // basic reply code (RFC 5321 section 4.2), 0 if none
	Enhanced string // enhanced status code (RFC 3463), "" if none
	Text     string // the reply or diagnostic text, codes and multi-line prefixes removed
	Stage    string // Stage* constant
	Remote   string // "host[ip]", "host" or "[ip]" of the other side
	Hint     string // Hint* constant from the log format
	Format   string // which form was recognised: reply, postfix, postfix-smtpd, exim, exchange, dsn, text
	// Recipient is a DSN's Final-Recipient (--dsn mode).
	Recipient string
	// lead is text before the reply ("Server Response: '", a client's
	// sentence); rules see it too.
	lead string
	// client: the text is a mail library's or client's error (PHPMailer,
	// nodemailer, smtplib, JavaMail, ...), where no queue retries.
	client bool
}

// Extract recognises the form of one input (see the package comment and
// docs/explain.md for the list) and pulls out codes, text, stage, remote
// and status hint. It never fails: unrecognised text is Format "text" with
// whatever reply code appears in it.
func Extract(input string) Parsed {
	s := strings.TrimSpace(input)
	lower := lowerASCII(s)
	var p Parsed
	switch {
	case strings.Contains(lower, "{led="):
		p = extractExchangeLED(s, lower)
	case isDSNFields(lower):
		p = extractDSNFields(s)
	case strings.Contains(lower, " status=") || strings.Contains(lower, "\tstatus=") || strings.HasPrefix(lower, "status="):
		p = extractPostfixStatus(s, lower)
	case strings.Contains(lower, "reject: ") && (strings.Contains(lower, " from ") || isSmtpdVerbReject(lower)):
		p = extractPostfixReject(s, lower)
	case isQmailDelivery(lower):
		p = extractQmail(s, lower)
	case isEximLine(lower):
		p = extractExim(s, lower)
	case isPostfixBounceLine(lower):
		// A Postfix bounce line: "<a@b>: host mx.b[1.2.3.4] said: 450 ..."
		p = Parsed{Format: "postfix"}
		flat := collapseSpace(s)
		if strings.HasPrefix(flat, "<") {
			flat = flat[strings.Index(lowerASCII(flat), ">: host ")+3:]
		}
		parsePostfixDiag(&p, flat)
		dsnTrailer(&p, lower)
	default:
		p = extractReply(s)
		p.Format = "reply"
		if p.Code == 0 && p.Enhanced == "" {
			p.Format = "text"
		}
	}
	flat := lower
	if strings.ContainsAny(lower, "\n\t") {
		flat = lowerASCII(collapseSpace(s)) // "(in\n    reply to RCPT TO command)"
	}
	h := scanCues(flat)
	if p.Stage == "" {
		p.Stage = h.stageName()
	}
	if p.Stage == "" && p.Code == 0 && h.connect {
		// Socket-level failures happen before any reply; inside a reply
		// ("550 5.4.316 Message expired, connection refused") they describe
		// an earlier hop.
		p.Stage = StageConnect
	}
	if p.Hint == HintNone {
		p.Hint = sendmailHint(flat, p.Enhanced)
	}
	if p.Hint == HintNone {
		p.Hint = h.proseHint()
	}
	if p.Code == 0 {
		p.Code = fieldCode(s, lower)
	}
	if p.Stage == "" {
		p.Stage = StageUnknown
	}
	p.client = h.client
	return p
}

// clientMarkers are the wording of mail libraries and clients reporting a
// failed send (PHPMailer "SMTP Error: Could not connect to SMTP host",
// nodemailer "Error: connect ETIMEDOUT", Python smtplib exceptions,
// JavaMail, SwiftMailer, .NET SmtpClient, Go net errors). No MTA queue is
// behind them: a send that failed is final unless the program retries.
var clientMarkers = []string{
	"smtp error:", "smtp error (", "smtp error!", "mailer error", "smtp -> error", "smtp error", "failed to connect to server",
	"could not connect to smtp host", "exception", "smtplib", "javax.mail", "swift_", "net::", "etimedout",
	"econnrefused", "econnreset", "enotfound", "ehostunreach", "dial tcp", "phpmailer", "nodemailer",
	"error sending email", "can not send email", "cannot send email", "could not send mail", "net_io_",
	"transport connection", "errno", "getaddrinfo", "could not be sent", "unable to send", "failed to send",
	// nodemailer "Error: queryA ETIMEOUT host", "Error: Timed out while
	// waiting for greeting", Node TLS "Hostname/IP doesn't match
	// certificate's altnames"; msmtp's "msmtp: ..." lines.
	"etimeout", "waiting for greeting", "certificate's altnames", "msmtp:",
	// Thunderbird: "An error occurred while sending mail. The mail server
	// responded: ...".
	"an error occurred while sending mail",
	// A Node.js stack trace ("at SMTPConnection._formatError
	// (/app/node_modules/nodemailer/...)"), and libcurl's
	// CURLE_OPERATION_TIMEDOUT text "Timeout was reached" (PHP, R and C
	// programs sending through curl's SMTP).
	"node_modules", "timeout was reached",
	// PHPMailer's translations of "SMTP Error:" and "SMTP connect()
	// failed" (language/phpmailer.lang-*.php): German, Spanish, French.
	"smtp-fehler:", "error smtp:", "erreur smtp", "smtp connect()",
	// nodemailer's own connection errors (lib/smtp-connection: "Greeting
	// never received", "Unexpected socket close", "Missing credentials
	// for", "No recipients defined"; not its "Connection closed
	// unexpectedly", which OpenSMTPD logs for a deferral too),
	// Symfony Mailer and SwiftMailer ("Connection could not be established
	// with host", PHP's stream_socket_client() and fsockopen() warnings),
	// .NET SmtpClient's "Failure sending mail" and Jakarta Mail (the
	// javax.mail successor).
	"greeting never received", "unexpected socket close",
	"missing credentials for", "no recipients defined", "connection could not be established with host",
	"stream_socket_client", "fsockopen", "failure sending mail", "jakarta.mail",
	// Perl's die message "... at /usr/share/perl5/MIME/Lite.pm line 3036."
	// (MIME::Lite and other Perl mail modules), Ruby's EOFError (Net::SMTP
	// reading from a TLS port in plain text) and Python's socket.timeout.
	".pm line", "eoferror", "socket.timeout",
	// sSMTP, a sendmail replacement that only relays: "ssmtp: Cannot open
	// smtp.example.com:587", printed as "sendmail: Cannot open ..." when
	// called by that name.
	"ssmtp:", "sendmail: cannot open",
	// Python on Windows ("[WinError 10060] A connection attempt failed"),
	// PHPMailer's "SMTP connect ()" as some translations space it.
	"winerror", "smtp connect ()",
	// PHPMailer's Indonesian "Kesalahan SMTP: Tidak dapat terhubung ke host
	// SMTP." (language/phpmailer.lang-id.php).
	"kesalahan smtp", "terhubung ke host smtp",
	// MailCore (iOS and macOS mail apps): "Error Domain=MCOErrorDomain
	// Code=1 ...".
	"mcoerrordomain",
	// Rust's lettre ("SMTP IO error: ...") and Rust I/O errors, which end
	// in "(os error N)".
	"smtp io error", "(os error ",
	// s-nail / mailx ("s-nail: SMTP: ..."), SwiftMailer named by its path
	// ("/swiftmailer/lib/classes/Swift/..."), and an AWS API error document
	// ("<ErrorResponse xmlns=\"http://ses.amazonaws.com/...\">").
	"s-nail:", "/swiftmailer/", "<errorresponse",
}

// extractReply finds the first SMTP reply in s: "450 4.7.1 text",
// "450-4.2.1 line\n450 4.2.1 line", "4.2.0 text" (no basic code) or a bare
// enhanced code. Text before the reply (a client's "Server Response: '"
// prefix, a log prefix) is dropped.
func extractReply(s string) Parsed {
	var p Parsed
	code, enh, rest, start, ok := findReply(s)
	if !ok {
		p.Text = collapseSpace(s)
		return p
	}
	p.Code, p.Enhanced, p.lead = code, enh, s[:start]
	p.Text = collapseSpace(stripContinuations(rest, code, enh))
	return p
}

// findReply scans s for the first reply-code token. A basic code is three
// digits whose first is 2-5 and second 0-5 (RFC 5321 section 4.2: the
// second digit is 0-5), standing alone (not part of an IP, a number, a
// timestamp) and followed by a space, '-', a quote or the end. An enhanced
// code may follow it; an enhanced code alone also counts (RFC 3463 section
// 2). Whichever token comes first wins.
func findReply(s string) (code int, enh string, rest string, start int, ok bool) {
	// A 2xx is a success, never the failure being explained: in a session
	// transcript ("MAIL FROM: ...\n250 ok\nRCPT TO: ...\n421 ...") the
	// failing reply comes later. A 2xx counts only when nothing else does.
	var ok2 struct {
		code, start int
		enh, rest   string
		found       bool
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '2' || c > '5' || !tokenStart(s, i) || processID(s, i) {
			continue
		}
		if n, end, good := basicAt(s, i); good {
			if expectedCode(s[:i]) || countedNumber(s[:i]) || httpStatus(s[:i]) || unitFollows(s[end:]) {
				continue // "Expected response code 250 but got code 550", "quota of 500", "256 MB"
			}
			e, rest := enhancedNear(s, n, end)
			if n < 300 {
				if !ok2.found {
					ok2.code, ok2.enh, ok2.rest, ok2.start, ok2.found = n, e, rest, i, true
				}
				continue
			}
			return n, e, rest, i, true
		}
		if e, eend, eok := enhancedAt(s, i); eok {
			// "5.7.0 Must issue a STARTTLS command first (530 5.7.0 ...)",
			// sendmail's "dsn=4.2.2, stat=Deferred: 452-4.2.2 ...": the
			// basic code comes later, paired with the same enhanced code.
			n := pairedBasic(s[eend:], e)
			if n == 0 {
				n = deferredBasic(s[eend:])
			}
			if e[0] == '2' {
				continue
			}
			return n, e, s[eend:], i, true
		}
	}
	if ok2.found {
		return ok2.code, ok2.enh, ok2.rest, ok2.start, true
	}
	return 0, "", s, 0, false
}

// unitFollows: a number followed by a unit of size or time ("256 MB",
// "300 seconds") is a quantity, not a reply code.
func unitFollows(rest string) bool {
	rest = strings.TrimLeft(rest, " ")
	end := 0
	for end < len(rest) && isAlpha(rest[end]) {
		end++
	}
	switch lowerASCII(rest[:end]) {
	case "b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "bytes", "byte", "k", "m",
		"ms", "s", "sec", "secs", "second", "seconds", "min", "mins", "minute", "minutes", "hours", "days":
		return true
	}
	return false
}

// processID: digits in brackets glued to a word are a process id or a
// counter ("postfix/smtp[226]", "compliant[291]"), never a reply code; nor
// is the value of a log field that counts or measures ("delay=450,",
// "size=452,", "pri=", "nrcpts=") while "reject=550" or "response=554" is.
func processID(s string, i int) bool {
	if i >= 2 && s[i-1] == '[' && isWordByte(s[i-2]) {
		return true
	}
	if i >= 3 && s[i-1] == ' ' && s[i-2] == ':' && isAlpha(s[i-3]) {
		// "time: 431" in a "key: value" log (a qmail-style deferral log line)
		j := i - 2
		for j > 0 && isAlpha(s[j-1]) {
			j--
		}
		switch lowerASCII(s[j : i-2]) {
		case "time", "delay", "size", "mid", "toid", "pid", "bytes", "port":
			return true
		}
	}
	if i >= 2 && s[i-1] == '=' {
		j := i - 1
		for j > 0 && (isAlpha(s[j-1]) || s[j-1] == '_') {
			j--
		}
		switch lowerASCII(s[j : i-1]) {
		case "delay", "delays", "xdelay", "size", "pri", "nrcpts", "ntries", "msgs", "port", "pid", "len", "bytes",
			"s", "uid", "gid", "time", "ms", "duration", "count", "rcpts", "conn_use", "id", "t":
			return true
		}
	}
	return false
}

// pairedBasic finds a basic code written right before a later occurrence
// of the enhanced code e ("530 5.7.0", "452-4.2.2"); 0 if none.
func pairedBasic(rest, e string) int {
	for k := 0; k < len(rest); {
		m := strings.Index(rest[k:], e)
		if m < 0 {
			return 0
		}
		at := k + m
		if at >= 4 && (rest[at-1] == ' ' || rest[at-1] == '-') && rest[at-4] == e[0] && tokenStart(rest, at-4) {
			if n, _, ok := basicAt(rest, at-4); ok {
				return n
			}
		}
		k = at + len(e)
	}
	return 0
}

// deferredBasic finds the basic code of sendmail's "stat=Deferred: 451
// Temporary local problem" when the reply has no enhanced code of its own
// (the dsn= field came first); 0 if none.
func deferredBasic(rest string) int {
	k := strings.Index(lowerASCII(rest), "stat=deferred: ")
	if k < 0 {
		return 0
	}
	v := rest[k+len("stat=deferred: "):]
	if n, _, ok := basicAt(v, 0); ok && v[0] >= '2' && v[0] <= '5' {
		return n
	}
	return 0
}

// enhancedNear finds the enhanced code that belongs to the basic code n
// ending at end: right after it ("450 4.7.1", "450-4.2.1"), a few
// characters on ("ResponseCode 421, , 4.7.0", "450 cuda_nsu 4.7.1"), at a
// repeat of the same basic code ("454\nServer Response: 454 4.7.1"), or
// qmail-style at the end ("(#5.7.1)"). It returns the text after it.
func enhancedNear(s string, n, end int) (string, string) {
	// A reply wrapped right after its code ("said: 421\n4.7.0 [TSS04] ..."
	// in a folded bounce) keeps its enhanced code on the next line.
	j := end
	for j < len(s) && (s[j] == '-' || s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n') && j-end < 3 {
		j++
	}
	if e, eend, ok := enhancedAt(s, j); ok {
		return e, s[eend:]
	}
	for k := end; k < len(s) && k-end < 24 && s[k] != '\n'; k++ {
		if (s[k] == '4' || s[k] == '5' || s[k] == '2') && tokenStart(s, k) {
			if e, eend, ok := enhancedAt(s, k); ok {
				return e, s[end:eend-len(e)] + s[eend:]
			}
		}
	}
	code := itoa3(n)
	for k := end; k < len(s); {
		m := strings.Index(s[k:], code)
		if m < 0 {
			break
		}
		at := k + m
		if tokenStart(s, at) && at+4 < len(s) && (s[at+3] == ' ' || s[at+3] == '-') {
			if e, eend, ok := enhancedAt(s, at+4); ok {
				return e, s[eend:]
			}
		}
		k = at + 3
	}
	for k := end; k < len(s); {
		h := strings.IndexByte(s[k:], '#')
		if h < 0 {
			break
		}
		if e, _, ok := enhancedAt(s, k+h+1); ok {
			return e, s[end:]
		}
		k += h + 1
	}
	// Farther on, in parentheses or after a space, with the same class:
	// PHP's "SMTP Error (451): Failed to add recipient "x" (4.3.0 <x>: ...)".
	for k := end; k < len(s); k++ {
		if s[k] != byte('0'+n/100) || (s[k-1] != ' ' && s[k-1] != '(') {
			continue
		}
		if e, eend, ok := enhancedAt(s, k); ok && (eend == len(s) || s[eend] == ' ' || s[eend] == ')' || s[eend] == ';') {
			return e, s[end:]
		}
	}
	return "", s[end:]
}

// expectedCode: the code is what a client library expected, not what it
// got: Swift Mailer / Symfony "Expected response code 250 but got ...",
// "Expected response code(s) [250, 251] but got response [550 ...]",
// PHPMailer-style "expected 354, got 421". A code is an expected one when
// "expected" comes shortly before it with no "got"/"but"/"received" in
// between (a list of several expected codes included).
func expectedCode(before string) bool {
	b := before
	if len(b) > 48 {
		b = b[len(b)-48:]
	}
	b = lowerASCII(b)
	k := strings.LastIndex(b, "expected")
	if k < 0 || (k > 0 && (isAlpha(b[k-1]) || b[k-1] == '_')) {
		return false // "Unexpected_Response: 421 ..." reports what it got
	}
	between := b[k+len("expected"):]
	return !strings.Contains(between, "got") && !strings.Contains(between, "but") &&
		!strings.Contains(between, "received") && !strings.Contains(between, "instead") &&
		!strings.ContainsAny(between, "\n.;")
}

// httpStatus: the number is an HTTP status of a sending service's API
// ("statusCode: 403", {"ErrorCode":400}), not an SMTP reply.
func httpStatus(before string) bool {
	b := before
	if len(b) > 24 {
		b = b[len(b)-24:]
	}
	b = strings.TrimRight(lowerASCII(b), " :=\"'")
	for _, w := range []string{"statuscode", "status_code", "http status", "http/1.1", "http/1.0", "http/2", "errorcode", "error_code"} {
		if strings.HasSuffix(b, w) {
			return true
		}
	}
	return false
}

// countedNumber: the number is a quantity, not a reply code ("your relay
// quota of 500", "limit 500", "more than 450 recipients", "max 250").
func countedNumber(before string) bool {
	b := before
	if len(b) > 16 {
		b = b[len(b)-16:]
	}
	b = strings.TrimRight(lowerASCII(b), " :")
	for _, w := range []string{" of", "quota", "limit", " than", " max", "maximum", " over", "used", " exceeds", " exceeded"} {
		if strings.HasSuffix(b, w) {
			return true
		}
	}
	return false
}

// tokenStart: the character before i does not glue it to a word, a number
// or a dotted quad.
func tokenStart(s string, i int) bool {
	if i == 0 {
		return true
	}
	b := s[i-1]
	return !(isDigit(b) || isAlpha(b) || b == '.' || b == '_' || b == '/' || b == '%' || b == '+' || b == '-' || b == ':')
}

// basicAt parses a basic code at i.
func basicAt(s string, i int) (int, int, bool) {
	if i+3 > len(s) || !isDigit(s[i+1]) || !isDigit(s[i+2]) {
		return 0, 0, false
	}
	if s[i+1] > '5' && !classPaired(s, i) {
		return 0, 0, false
	}
	end := i + 3
	if end < len(s) {
		switch s[end] {
		case ' ', '-', '\t', '\n', '\r', '\'', '"', ')', ',', ';', ']', ':':
		default:
			return 0, 0, false
		}
		if s[end] == '-' && end+1 < len(s) && isDigit(s[end+1]) && !enhancedOK(s, end+1) {
			return 0, 0, false // "450-123" is a number range, not a continuation line
		}
	}
	return int(s[i]-'0')*100 + int(s[i+1]-'0')*10 + int(s[i+2]-'0'), end, true
}

// classPaired: a code outside RFC 5321's second-digit range 0-5 ("571
// 5.7.1 Message refused", "471 4.7.1 ...", "577 5.1.1 ...", used by some
// servers and by Postfix's configurable reject codes) counts only when an
// enhanced code of the same class follows it directly.
func classPaired(s string, i int) bool {
	if i+4 >= len(s) || (s[i+3] != ' ' && s[i+3] != '-') {
		return false
	}
	e, _, ok := enhancedAt(s, i+4)
	return ok && e[0] == s[i]
}

func enhancedOK(s string, i int) bool { _, _, ok := enhancedAt(s, i); return ok }

// enhancedAt parses "C.S.D" at i with reply.ParseStatus, requiring a token
// boundary after it (so "4.16.55.1" in a Yahoo reply is not taken).
func enhancedAt(s string, i int) (string, int, bool) {
	if i >= len(s) || (s[i] != '2' && s[i] != '4' && s[i] != '5') {
		return "", 0, false
	}
	j := i
	dots := 0
	for j < len(s) && (isDigit(s[j]) || s[j] == '.') {
		if s[j] == '.' {
			dots++
		}
		j++
	}
	tok := strings.TrimRight(s[i:j], ".") // "4.7.1." at a sentence end
	if dots < 2 {
		return "", 0, false
	}
	if _, ok := reply.ParseStatus(tok); !ok {
		return "", 0, false
	}
	end := i + len(tok)
	if end < len(s) && (isAlpha(s[end]) || s[end] == '_') {
		return "", 0, false
	}
	return tok, end, true
}

// stripContinuations removes the repeated "450-4.2.1 " / "450 4.2.1 "
// prefixes of a multi-line reply (RFC 5321 section 4.2.1), whether the lines
// are still separate or were joined by a log writer (Postfix joins them with
// spaces).
func stripContinuations(rest string, code int, enh string) string {
	if code == 0 {
		return rest
	}
	c := itoa3(code)
	var pre []string
	if enh != "" {
		pre = append(pre, c+"-"+enh+" ", c+" "+enh+" ", c+"-"+enh+"\n", c+" "+enh+"\n")
	}
	pre = append(pre, c+"-", c+" ")
	if !strings.Contains(rest, c) {
		return rest
	}
	var b strings.Builder
	for i := 0; i < len(rest); {
		if (i == 0 || rest[i-1] == ' ' || rest[i-1] == '\n' || rest[i-1] == '\t') && strings.HasPrefix(rest[i:], c) {
			matched := false
			for _, p := range pre {
				if strings.HasPrefix(rest[i:], p) && (len(p) > 4 || i == 0 || rest[i-1] == '\n') {
					i += len(p)
					matched = true
					break
				}
			}
			if matched {
				continue
			}
		}
		b.WriteByte(rest[i])
		i++
	}
	return b.String()
}

func itoa3(n int) string {
	return string([]byte{byte('0' + n/100), byte('0' + n/10%10), byte('0' + n%10)})
}

// collapseSpace joins lines and runs of white space into single spaces and
// trims separators left over from the code ("450 4.7.1 : text").
func collapseSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteByte(c)
	}
	out := b.String()
	out = strings.TrimLeft(out, " :-")
	return out
}

// isPostfixBounceLine: "host mx[ip] said: ..." or "<a@b>: host mx[ip] said:",
// possibly folded over lines as in a bounce's text part.
func isPostfixBounceLine(lower string) bool {
	if strings.HasPrefix(lower, "host ") {
		return true
	}
	if !strings.HasPrefix(lower, "<") {
		return false
	}
	k := strings.Index(lower, ">:")
	if k < 0 {
		return false
	}
	rest := strings.TrimLeft(lower[k+2:], " \t\r\n")
	return strings.HasPrefix(rest, "host") && len(rest) > 4 && (rest[4] == ' ' || rest[4] == '\n' || rest[4] == '\t')
}

// dsnTrailer reads the Action: and Status: fields that follow a Postfix
// bounce line when a bounce's text part and its message/delivery-status
// part are pasted together ("<a@b>: host mx[ip] refused to talk to me: 450
// ...\n\nAction: failed\nStatus: 4.7.1"). As for a DSN block (RFC 3464
// section 2.3.3), Action: is the sending side's verdict and Status: the
// status of the delivery.
func dsnTrailer(p *Parsed, lower string) {
	if !strings.Contains(lower, "\naction: ") && !strings.Contains(lower, "\nstatus: ") {
		return
	}
	for _, line := range strings.Split(lower, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "action: "):
			switch strings.TrimSpace(line[len("action: "):]) {
			case "failed":
				p.Hint = HintFailed
			case "delayed":
				p.Hint = HintDeferred
			}
		case strings.HasPrefix(line, "status: "):
			if e, _, ok := enhancedAt(strings.TrimSpace(line[len("status: "):]), 0); ok {
				p.Enhanced = e
			}
		}
	}
}

// proseDeferred and proseFailed are the wording of delay notices and
// bounces (the sending side's own verdict, which outranks the quoted
// reply's class): qmail-send's bounce "I'm not going to try again; this
// message has been in the queue too long.", Gmail's "Delivery incomplete
// ... will retry", Exchange's "Delivery has failed to these recipients" and
// "Delivery will continue to be attempted".
var proseDeferred = []string{
	"will continue to be attempted", "delivery incomplete", "will retry for", "will keep trying",
	"hasn't been delivered yet", "has not yet been delivered", "has not been delivered yet",
	// OpenSMTPD's delivery log "delivery: TempFail for <evpid>: ...";
	// Postfix cleanup's "... lookup problem ... -- deferring delivery".
	// Trend Micro ERS: "Mail from [ip] deferred using Trend Micro Email
	// Reputation database".
	"delivery: tempfail", "deferring delivery", "deferred using",
	// sendmail's delay warning: "Message could not be delivered for 4
	// hours / Message will be retried for 5 days".
	"will be retried for",
	// Exim's receiving side: "sender verify defer for <a@b>: ..." (the
	// callout failed temporarily; the client gets a 4xx).
	"verify defer for",
	// Postfix's delay notice "It will be retried until it is 5 day(s)
	// old."; Exim's "This is a temporary error. The following address(es)
	// deferred: ... Message will be reattempted later".
	"will be retried until", "this is a temporary error", "will be reattempted",
	// sendmail's delay warning ("** THIS IS A WARNING MESSAGE ONLY **",
	// "Will keep trying until message is 5 days old"); Exchange 5.5's
	// "Rescheduling delivery for later".
	"this is a warning message only", "will keep trying until", "rescheduling delivery",
	// Haraka outbound: "Temp failing <id> for 4096 seconds: ..."; OpenSMTPD
	// mda/mta "result=TempFail".
	"temp failing", "result=tempfail",
	// Postfix's "delivery temporarily suspended: <reason>" (the reason an
	// earlier attempt failed, shown for mail still queued; a bounce's
	// Action: failed outranks it).
	"delivery temporarily suspended",
	// Tencent's Chinese delay notice: "由于以下原因导致电子邮件被延期"
	// ("the message was deferred for the following reason").
	"导致电子邮件被延期",
}

var proseFailed = []string{
	"not going to try again", "in the queue too long", "delivery has failed to", "failed permanently",
	"message wasn't delivered", "message was not delivered", "message not delivered",
	"couldn't be delivered", "could not be delivered to", "mail delivery failed: returning message",
	"message discarded",
	// MDaemon/IceWarp-style "Could not deliver message to the following
	// recipient(s): ... Failed all attempts to connect", OpenSMTPD's
	// "delivery: PermFail for", German "konnte nicht zugestellt werden".
	"could not deliver message to the following", "failed all attempts", "delivery: permfail",
	"konnte nicht zugestellt werden",
	// Stalwart's delivery log "DSN permanent failure notification
	// (delivery.dsn-perm-fail)".
	"permanent failure notification", "dsn-perm-fail",
	// qmail-send "This is a permanent error; I've given up.", Exchange
	// "Delivery to the following recipients failed.", and the common
	// "unable to deliver your message" / "could not deliver your message"
	// bounce openings (a delay notice says "will retry", which wins).
	"this is a permanent error", "i've given up", "delivery to the following recipients failed",
	"unable to deliver your message", "could not deliver your message",
	// sendmail's final bounce "Message could not be delivered for 5 days /
	// Message will be deleted from queue", CommuniGate "Failed to deliver
	// to '<a@b>'", and qmail-send, which only writes bounces.
	"could not be delivered for", "will be deleted from queue", "failed to deliver to",
	"this is the qmail-send program",
	// An expiry notice: "Message expired for domain example.com", Exchange
	// "550 4.4.7 QUEUE.Expired; message expired" (the design brief: an
	// expiry is final even with a 4.x.x code inside).
	"message expired",
	// Japanese webmail bounces: "以下のメールアドレスへの送信に失敗しました"
	// ("sending to the following address failed"), "配信できませんでした"
	// ("could not be delivered").
	"送信に失敗しました", "配信できませんでした",
	// A sender's own report that delivery failed for good: Odoo's "Mail
	// delivery failed via SMTP server '...'", E-Post's "Unable to deliver
	// to destination domain ...", "Failed four Attempts to connect to
	// recipients mail server" (tune6, tune11, tune12; a delay notice's
	// "will retry" wording outranks them).
	"mail delivery failed via", "unable to deliver to destination", "attempts to connect to recipient",
	// Chinese mail services' bounce marker "退信" ("returned letter"):
	// "[退信] 发信数超限制", "退信提示: ...".
	"退信",
}

// sendmailHint reads sendmail's "stat=" field: "stat=Deferred: ..." is
// kept in the queue, "stat=Sent" delivered, anything else with a 5.x.x
// dsn= a bounce (sendmail's log, "stat=" and "dsn=" fields).
func sendmailHint(lower, enh string) string {
	k := strings.Index(lower, "stat=")
	if k < 0 || (k > 0 && lower[k-1] != ' ' && lower[k-1] != ',' && lower[k-1] != '\t') {
		return HintNone
	}
	v := lower[k+len("stat="):]
	switch {
	case strings.HasPrefix(v, "deferred"):
		return HintDeferred
	case strings.HasPrefix(v, "sent"):
		return HintSent
	case strings.HasPrefix(enh, "5."):
		return HintFailed
	}
	return HintNone
}

// fieldCode finds a basic code in structured log fields when the text has
// no free-standing one: smtp_code=550, "smtp_code":550, "code":550.
func fieldCode(s, lower string) int {
	for _, name := range []string{`"smtp_code":`, "smtp_code=", `"code":`, "code=", "smtpcode=", "smtp code:", "code:"} {
		for from := 0; ; {
			k := strings.Index(lower[from:], name)
			if k < 0 {
				break
			}
			k += from
			from = k + len(name)
			if k > 0 && isAlpha(name[0]) && (isAlpha(lower[k-1]) || lower[k-1] == '_') {
				continue // "statusCode: 403", "errorCode=...": another field
			}
			v := strings.TrimLeft(s[k+len(name):], ` "`)
			if n, _, ok := basicAt(v+" ", 0); ok && v[0] >= '2' && v[0] <= '5' {
				return n
			}
		}
	}
	return 0
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
func isAlpha(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }

// lowerASCII lower-cases ASCII letters only. Unlike strings.ToLower it
// keeps every byte where it was (invalid UTF-8 and letters such as 'İ'
// change length there), so an index found in the lower-cased text is valid
// in the original.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 32
				}
			}
			return string(b)
		}
	}
	return s
}
