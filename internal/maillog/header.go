package maillog

import (
	"strings"
	"time"
)

// Parser turns single log lines into Events. It keeps a little state
// between lines (year inference for RFC 3164 stamps, a timestamp cache), so
// feed it the lines of one stream in order; it is not safe for concurrent
// use. The zero value is usable: local time zone, reference time = now.
type Parser struct {
	// Location is the zone of timestamps that carry none (RFC 3164, Exim
	// without log_timezone, ISO stamps without offset). Nil: time.Local.
	Location *time.Location
	// Reference anchors the year of RFC 3164 stamps ("Nov 27 11:08:40"):
	// the first stamp gets the year that puts it at or before Reference
	// (plus two days of slack); later stamps move to the next year when the
	// month wraps from late in the year to early (Dec -> Jan). Zero: now.
	Reference time.Time
	// DefaultHost is used as Event.Host when a line has no host field
	// (Exim's own main log).
	DefaultHost string

	yearSet   bool
	year      int
	lastMonth time.Month

	// cache of the last RFC 3164 stamp (15 bytes) and its time
	lastStamp string
	lastTime  time.Time
	lastYear  int

	zones map[int]*time.Location
}

func (p *Parser) loc() *time.Location {
	if p.Location != nil {
		return p.Location
	}
	return time.Local
}

// Parse parses one line (with or without its trailing "\n" / "\r\n") into
// ev, overwriting it. It reports whether the line was framed and, for
// Postfix/Exim lines, understood; otherwise ev.Kind is KindUnparsed. ev.Line
// is set to line without its terminator; File and LineNo are left to the
// caller.
func (p *Parser) Parse(line string, ev *Event) bool {
	ev.reset()
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	ev.Line = line
	if !p.parse(line, ev) {
		file, no, l := ev.File, ev.LineNo, ev.Line
		ev.reset()
		ev.File, ev.LineNo, ev.Line = file, no, l
		ev.Kind = KindUnparsed
		return false
	}
	return true
}

func (p *Parser) parse(s string, ev *Event) bool {
	if len(s) < 16 {
		return false
	}
	// A syslog PRI "<NN>" kept by some relays, and RFC 5424.
	if s[0] == '<' {
		i := 1
		for i < len(s) && i < 5 && isDigit(s[i]) {
			i++
		}
		if i == 1 || i >= len(s) || s[i] != '>' {
			return false
		}
		s = s[i+1:]
		if len(s) > 2 && s[0] == '1' && s[1] == ' ' {
			return p.parse5424(s[2:], ev)
		}
	}
	switch {
	case len(s) > 19 && isDigit(s[0]) && isDigit(s[1]) && isDigit(s[2]) && isDigit(s[3]) && s[4] == '-':
		if s[10] == 'T' {
			// ISO 8601 / RFC 3339 stamp: rsyslog high precision, journalctl -o short-iso[-precise].
			sp := strings.IndexByte(s, ' ')
			if sp < 0 {
				return false
			}
			t, ok := p.parseISO(s[:sp])
			if !ok {
				return false
			}
			ev.Time = t
			return p.parseHostTag(s[sp+1:], ev)
		}
		if s[10] == ' ' {
			// Exim's own main log: "2026-11-27 11:08:40 ..."
			rest, t, ok := p.parseEximStamp(s)
			if !ok {
				return false
			}
			ev.Time = t
			ev.Host = p.DefaultHost
			ev.Program, ev.Daemon = "exim", "exim"
			ev.MTA = MTAExim
			return parseExim(rest, ev)
		}
		return false
	case isUpper(s[0]):
		rest, t, ok := p.parse3164Stamp(s)
		if !ok {
			return false
		}
		ev.Time = t
		return p.parseHostTag(rest, ev)
	}
	return false
}

// parse5424 parses after "<PRI>1 ": TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG (RFC 5424 section 6).
func (p *Parser) parse5424(s string, ev *Event) bool {
	var f [5]string
	for i := 0; i < 5; i++ {
		sp := strings.IndexByte(s, ' ')
		if sp <= 0 {
			return false
		}
		f[i], s = s[:sp], s[sp+1:]
	}
	if f[0] != "-" {
		t, ok := p.parseISO(f[0])
		if !ok {
			return false
		}
		ev.Time = t
	}
	if f[1] != "-" {
		ev.Host = f[1]
	}
	// structured data: "-" or one or more [id k="v" ...]
	switch {
	case strings.HasPrefix(s, "-"):
		s = s[1:]
	case strings.HasPrefix(s, "["):
		i, inq := 0, false
		for i < len(s) {
			c := s[i]
			switch {
			case inq && c == '\\':
				i++
			case c == '"':
				inq = !inq
			case !inq && c == ']':
				if i+1 >= len(s) || s[i+1] != '[' {
					i++
					goto sdDone
				}
			}
			i++
		}
		return false
	sdDone:
		s = s[i:]
	default:
		return false
	}
	s = strings.TrimPrefix(s, " ")
	s = strings.TrimPrefix(s, "\ufeff")
	app := f[2]
	if app == "-" {
		return false
	}
	pid := 0
	if f[3] != "-" {
		pid, _ = atoi(f[3])
	}
	return p.dispatch(app, pid, s, ev)
}

// parseHostTag parses "host tag[pid]: message".
func (p *Parser) parseHostTag(s string, ev *Event) bool {
	sp := strings.IndexByte(s, ' ')
	if sp <= 0 {
		return false
	}
	ev.Host = s[:sp]
	s = s[sp+1:]
	// tag: up to ": " (or ":" at end), no spaces
	i := 0
	for i < len(s) && s[i] != ':' && s[i] != ' ' {
		i++
	}
	if i == 0 || i >= len(s) || s[i] != ':' {
		return false
	}
	tag := s[:i]
	msg := s[i+1:]
	if len(msg) > 0 && msg[0] == ' ' {
		msg = msg[1:]
	}
	pid := 0
	if n := len(tag); n > 0 && tag[n-1] == ']' {
		lb := strings.LastIndexByte(tag, '[')
		if lb <= 0 {
			return false
		}
		pid, _ = atoi(tag[lb+1 : n-1])
		tag = tag[:lb]
	}
	return p.dispatch(tag, pid, msg, ev)
}

// dispatch routes a framed message by its syslog tag.
func (p *Parser) dispatch(tag string, pid int, msg string, ev *Event) bool {
	ev.Program = tag
	ev.PID = pid
	ev.Daemon = tag
	if k := strings.LastIndexByte(tag, '/'); k >= 0 {
		ev.Instance = tag[:k]
		ev.Daemon = tag[k+1:]
	}
	if ev.Instance == "" && (tag == "exim" || tag == "exim4" || strings.HasPrefix(tag, "exim-") || strings.HasPrefix(tag, "exim4-")) {
		ev.MTA = MTAExim
		// Exim logging to syslog may still prefix its own stamp and pid.
		if len(msg) > 19 && isDigit(msg[0]) && msg[4] == '-' && msg[10] == ' ' {
			if rest, t, ok := p.parseEximStamp(msg); ok {
				ev.Time = t
				msg = rest
			}
		} else if len(msg) > 2 && msg[0] == '[' {
			// "[1/2] ..." continuation markers of long syslog lines: keep as other
			if j := strings.IndexByte(msg, ']'); j > 0 && strings.IndexByte(msg[:j], '/') > 0 {
				ev.Kind = KindOther
				ev.Text = msg
				return true
			}
		}
		return parseExim(msg, ev)
	}
	if ev.Instance != "" && isPostfixDaemon(ev.Daemon) || tag == "postfix" || strings.HasPrefix(tag, "postfix") && ev.Instance != "" {
		ev.MTA = MTAPostfix
		return parsePostfix(msg, ev)
	}
	ev.Kind = KindIgnored
	ev.Text = msg
	return true
}

// isPostfixDaemon: the program names of Postfix daemons and commands, plus
// the master.cf transport names commonly used with -o syslog_name
// (relay, retry, submission...). Lines from any tag with a "/" and one of
// these last elements are read as Postfix.
func isPostfixDaemon(d string) bool {
	switch d {
	case "smtpd", "smtp", "lmtp", "local", "virtual", "pipe", "error", "retry", "discard", "relay",
		"bounce", "defer", "trace", "cleanup", "qmgr", "nqmgr", "oqmgr", "pickup", "postscreen",
		"dnsblog", "tlsproxy", "anvil", "scache", "verify", "master", "postsuper", "postqueue",
		"postdrop", "sendmail", "postlog", "postlogd", "trivial-rewrite", "tlsmgr", "proxymap",
		"proxywrite", "flush", "showq", "postmap", "postalias", "postfix-script", "postmulti",
		"postconf", "spawn", "qmqpd", "lmtpd", "smtps", "submission", "submissions", "amavis",
		"dkim", "policy-spf", "local-delivery":
		return true
	}
	return false
}

var monthIndex = func() map[string]time.Month {
	m := map[string]time.Month{}
	for i, n := range []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"} {
		m[n] = time.Month(i + 1)
	}
	return m
}()

func monthOf(s string) time.Month {
	if len(s) != 3 {
		return 0
	}
	// fast path without map lookup
	switch s {
	case "Jan":
		return 1
	case "Feb":
		return 2
	case "Mar":
		return 3
	case "Apr":
		return 4
	case "May":
		return 5
	case "Jun":
		return 6
	case "Jul":
		return 7
	case "Aug":
		return 8
	case "Sep":
		return 9
	case "Oct":
		return 10
	case "Nov":
		return 11
	case "Dec":
		return 12
	}
	return monthIndex[s]
}

// parse3164Stamp parses "Mmm dd hh:mm:ss[.frac] " (day space- or
// zero-padded, or a single digit with one space: all three are seen in the
// wild; Postfix's own postlogd writes "%b %d" zero-padded) and returns the
// rest after the following space.
func (p *Parser) parse3164Stamp(s string) (string, time.Time, bool) {
	if len(s) < 15 {
		return "", time.Time{}, false
	}
	mon := monthOf(s[:3])
	if mon == 0 || s[3] != ' ' {
		return "", time.Time{}, false
	}
	i := 4
	if s[i] == ' ' {
		i++
	}
	day := 0
	for j := 0; j < 2 && i < len(s) && isDigit(s[i]); j++ {
		day = day*10 + int(s[i]-'0')
		i++
	}
	if day < 1 || day > 31 || i+9 > len(s) || s[i] != ' ' {
		return "", time.Time{}, false
	}
	i++
	hh, mm, ss, ok := clock(s[i : i+8])
	if !ok {
		return "", time.Time{}, false
	}
	stamp := s[:i+8]
	i += 8
	nsec := 0
	if i < len(s) && s[i] == '.' {
		var n int
		nsec, n = fraction(s[i+1:])
		i += 1 + n
	}
	if i >= len(s) || s[i] != ' ' {
		return "", time.Time{}, false
	}
	rest := s[i+1:]
	year := p.yearFor(mon, day)
	if nsec == 0 && year == p.lastYear && stamp == p.lastStamp {
		return rest, p.lastTime, true
	}
	t := time.Date(year, mon, day, hh, mm, ss, nsec, p.loc())
	if nsec == 0 {
		p.lastStamp, p.lastTime, p.lastYear = stamp, t, year
	}
	return rest, t, true
}

// yearFor infers the year of an RFC 3164 stamp (see Parser.Reference).
func (p *Parser) yearFor(mon time.Month, day int) int {
	if !p.yearSet {
		ref := p.Reference
		if ref.IsZero() {
			ref = time.Now()
		}
		ref = ref.In(p.loc())
		y := ref.Year()
		if time.Date(y, mon, day, 0, 0, 0, 0, p.loc()).After(ref.Add(48 * time.Hour)) {
			y--
		}
		p.year, p.lastMonth, p.yearSet = y, mon, true
		return y
	}
	switch {
	case mon == p.lastMonth:
	case mon < p.lastMonth && p.lastMonth-mon >= 6:
		// Dec -> Jan: a new year.
		p.year++
		p.lastMonth = mon
	case mon > p.lastMonth && mon-p.lastMonth >= 6:
		// Jan -> Dec: a late line from the previous year (interleaved
		// streams); do not move the state back.
		return p.year - 1
	case mon > p.lastMonth:
		p.lastMonth = mon
	}
	return p.year
}

// parseISO parses RFC 3339 / ISO 8601 stamps as written by rsyslog
// (2026-11-27T11:08:40.123456+00:00), journalctl short-iso
// (2026-11-27T11:08:40+0100), and with Z or no zone at all.
func (p *Parser) parseISO(s string) (time.Time, bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != 'T' {
		return time.Time{}, false
	}
	y, ok1 := atoiFixed(s[0:4])
	mo, ok2 := atoiFixed(s[5:7])
	d, ok3 := atoiFixed(s[8:10])
	hh, mm, ss, ok4 := clock(s[11:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return time.Time{}, false
	}
	i := 19
	nsec := 0
	if i < len(s) && (s[i] == '.' || s[i] == ',') {
		var n int
		nsec, n = fraction(s[i+1:])
		i += 1 + n
	}
	loc, ok := p.zone(s[i:])
	if !ok {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), d, hh, mm, ss, nsec, loc), true
}

// zone parses "", "Z", "+hh:mm", "+hhmm", "-hh".
func (p *Parser) zone(z string) (*time.Location, bool) {
	switch {
	case z == "":
		return p.loc(), true
	case z == "Z" || z == "z":
		return time.UTC, true
	case z[0] == '+' || z[0] == '-':
		digits := z[1:]
		if len(digits) == 5 && digits[2] == ':' {
			digits = digits[:2] + digits[3:]
		}
		var h, m int
		var ok bool
		switch len(digits) {
		case 2:
			h, ok = atoiFixed(digits)
		case 4:
			var ok2 bool
			h, ok = atoiFixed(digits[:2])
			m, ok2 = atoiFixed(digits[2:])
			ok = ok && ok2
		}
		if !ok || h > 23 || m > 59 {
			return nil, false
		}
		off := (h*60 + m) * 60
		if z[0] == '-' {
			off = -off
		}
		if off == 0 {
			return time.UTC, true
		}
		return p.fixedZone(off), true
	}
	return nil, false
}

// fixedZone returns a *time.Location for an offset, cached per Parser so
// that lines with offsets cost no allocation.
func (p *Parser) fixedZone(off int) *time.Location {
	if l, ok := p.zones[off]; ok {
		return l
	}
	if p.zones == nil || len(p.zones) > 64 {
		p.zones = map[int]*time.Location{}
	}
	l := time.FixedZone("", off)
	p.zones[off] = l
	return l
}

// parseEximStamp parses Exim's "2026-11-27 11:08:40[.mmm][ +0100][ [pid]] "
// prefix and returns what follows.
func (p *Parser) parseEximStamp(s string) (string, time.Time, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != ' ' {
		return "", time.Time{}, false
	}
	y, ok1 := atoiFixed(s[0:4])
	mo, ok2 := atoiFixed(s[5:7])
	d, ok3 := atoiFixed(s[8:10])
	hh, mm, ss, ok4 := clock(s[11:19])
	if !ok1 || !ok2 || !ok3 || !ok4 || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return "", time.Time{}, false
	}
	i := 19
	nsec := 0
	if i < len(s) && s[i] == '.' {
		var n int
		nsec, n = fraction(s[i+1:])
		i += 1 + n
	}
	loc := p.loc()
	// log_timezone: " +0100" / " -0500"
	if i+6 <= len(s) && s[i] == ' ' && (s[i+1] == '+' || s[i+1] == '-') && isDigit(s[i+2]) {
		if l, ok := p.zone(s[i+1 : i+6]); ok {
			loc = l
			i += 6
		}
	}
	if i < len(s) && s[i] != ' ' {
		return "", time.Time{}, false
	}
	rest := ""
	if i < len(s) {
		rest = s[i+1:]
	}
	return rest, time.Date(y, time.Month(mo), d, hh, mm, ss, nsec, loc), true
}

// clock parses "hh:mm:ss".
func clock(s string) (int, int, int, bool) {
	if len(s) != 8 || s[2] != ':' || s[5] != ':' {
		return 0, 0, 0, false
	}
	h, ok1 := atoiFixed(s[0:2])
	m, ok2 := atoiFixed(s[3:5])
	sec, ok3 := atoiFixed(s[6:8])
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 60 {
		return 0, 0, 0, false
	}
	if sec == 60 {
		sec = 59
	}
	return h, m, sec, true
}

// fraction parses up to 9 digits of a fractional second; returns
// nanoseconds and the number of digits consumed (all digits, even past 9).
func fraction(s string) (int, int) {
	n, i := 0, 0
	for i < len(s) && isDigit(s[i]) {
		if i < 9 {
			n = n*10 + int(s[i]-'0')
		}
		i++
	}
	for j := i; j < 9; j++ {
		n *= 10
	}
	return n, i
}

func atoiFixed(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, len(s) > 0
}

// atoi parses a non-negative decimal integer of at most 18 digits.
func atoi(s string) (int, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	return atoiFixed(s)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
