package postfixpolicy

import (
	"bufio"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/tempfail/tempfail/internal/policy"
)

// DefaultMaxRequestSize bounds one request. Postfix's largest requests (all
// attributes, long TLS subjects) stay well under 4 KiB; 64 KiB leaves room
// without letting a client make us buffer without limit.
const DefaultMaxRequestSize = 64 << 10

// ReadRequest reads one request: name=value lines up to an empty line.
// max bounds the bytes consumed (DefaultMaxRequestSize when max <= 0).
//
// It returns io.EOF, unwrapped, on a clean EOF between requests, the read
// error unwrapped when nothing of a request had been read (so callers can
// tell an idle timeout), a *ProtocolError for input that breaks the protocol,
// and a wrapped read error for an I/O failure in the middle of a request.
//
// Leniencies, each harmless for Postfix and useful for other clients:
//   - "\r\n" line ends are accepted (every trailing "\r" of a line is cut).
//   - Empty lines before a request are skipped.
//   - A request ended by EOF instead of an empty line is complete if it has
//     request= (Exim's ${readsocket} writes one request, maybe without the
//     empty line, and shuts down its write side); a final line without
//     "\n" counts.
//   - A value is split at the first "=" and may hold any byte except NUL
//     and newline, including invalid UTF-8 (SMTPUTF8 or 8-bit garbage in
//     HELO names and addresses must reach the checks, not kill the
//     connection).
//   - Unknown attributes are kept in Extra, in order; SMTPD_POLICY_README:
//     "The policy server should ignore any attributes that it does not care
//     about".
//   - A repeated attribute: the last value wins (SMTPD_POLICY_README allows
//     "the first value or the last attribute value"); repeated unknown
//     attributes are all kept in Extra.
//   - Numeric attributes: empty means 0 (SMTPD_POLICY_README: an unavailable
//     value is omitted, empty, or "0"). A value that is not a plain decimal
//     number (Postfix never sends one) leaves the field as it was and is
//     kept verbatim in Extra, so nothing is lost and nothing is fatal.
//   - client_address "unknown" or unparsable leaves Client invalid, not an
//     error; an IPv4-mapped IPv6 address is unmapped, as Postfix's smtpd
//     itself does for the addresses it reports.
func ReadRequest(br *bufio.Reader, max int) (*policy.Request, error) {
	bp := scratchPool.Get().(*[]byte)
	d := decoder{br: br, max: max, buf: *bp}
	req, err := d.read(new(policy.Request))
	if cap(d.buf) <= 4*DefaultMaxRequestSize {
		*bp = d.buf[:0]
		scratchPool.Put(bp)
	}
	return req, err
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 2048); return &b }}

// decoder reads requests from one stream. Its scratch buffer is reused from
// request to request, so a connection's steady state allocates only the
// request's string and its policy.Request.
type decoder struct {
	br  *bufio.Reader
	max int
	buf []byte
}

// read parses the next request into req, which it resets first: a
// connection reuses one Request for all its requests (nothing keeps a
// Request once it is answered), so a request costs one allocation, its
// string.
func (d *decoder) read(req *policy.Request) (*policy.Request, error) {
	raw, lines, eof, err := d.gather()
	if err != nil {
		return nil, err
	}
	// One string for the whole request: every field is a substring of it,
	// so the request costs one copy and one allocation, not one per field.
	*req = policy.Request{}
	return parse(req, string(raw), lines, eof)
}

// gather reads the request's lines into d.buf, enforcing the size limit
// before buffering, and returns them without the terminating empty line.
// lines counts the lines returned; eof reports a request ended by EOF.
func (d *decoder) gather() (raw []byte, lines int, eof bool, err error) {
	max := d.max
	if max <= 0 {
		max = DefaultMaxRequestSize
	}
	buf := d.buf[:0]
	defer func() { d.buf = buf[:0] }()
	total := 0 // bytes consumed, including skipped empty lines
	start := 0 // start of the current line in buf
	for {
		frag, rerr := d.br.ReadSlice('\n')
		total += len(frag)
		if total > max {
			return nil, lines, false, protoErr(KindTooLarge, 0,
				"request exceeds "+strconv.Itoa(max)+" bytes")
		}
		buf = append(buf, frag...)
		switch {
		case rerr == nil:
		case rerr == bufio.ErrBufferFull:
			continue // a line longer than the bufio buffer: keep reading it
		case rerr == io.EOF:
			if trimCR(string(buf[start:])) != "" {
				lines++ // a final line without "\n"
			} else {
				buf = buf[:start]
			}
			if lines == 0 {
				return nil, 0, false, io.EOF // nothing but empty lines
			}
			return buf, lines, true, nil
		case len(buf) == 0 && lines == 0:
			return nil, 0, false, rerr // e.g. the idle timeout
		default:
			return nil, lines, false, &ReadError{Line: lines + 1, Err: rerr}
		}
		if isEmptyLine(buf[start:]) {
			if lines == 0 {
				buf, start = buf[:0], 0 // skip empty lines before a request
				continue
			}
			return buf[:start], lines, false, nil
		}
		lines++
		start = len(buf)
	}
}

// isEmptyLine reports whether line ("...\n") holds nothing but "\r"s.
func isEmptyLine(line []byte) bool {
	for _, c := range line[:len(line)-1] {
		if c != '\r' {
			return false
		}
	}
	return true
}

// ReadError is an I/O error in the middle of a request (connection reset,
// read deadline): not a protocol violation, but the request is lost.
type ReadError struct {
	Line int // the line being read, 1-based
	Err  error
}

func (e *ReadError) Error() string {
	return "policy protocol: reading line " + strconv.Itoa(e.Line) + " of a request: " + e.Err.Error()
}

func (e *ReadError) Unwrap() error { return e.Err }

// parse turns the gathered lines into a Request. s holds lines lines, each
// ended by "\n" except perhaps the last when eof.
func parse(req *policy.Request, s string, lines int, eof bool) (*policy.Request, error) {
	// One scan of the whole request; per line only if it has a NUL at all.
	hasNUL := strings.IndexByte(s, 0) >= 0
	for n := 1; n <= lines; n++ {
		line := s
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		line = trimCR(line)
		if line == "" {
			continue // gather drops empty lines; a guard, not a path
		}
		if hasNUL && strings.IndexByte(line, 0) >= 0 {
			return nil, protoErr(KindBinary, n, "NUL byte in "+quote(line))
		}
		eq := strings.IndexByte(line, '=')
		if eq < 0 {
			return nil, protoErr(KindNoEquals, n, `no "=" in `+quote(line))
		}
		name, value := line[:eq], line[eq+1:]
		if err := checkName(name, n, line); err != nil {
			return nil, err
		}
		set(req, name, value)
	}
	switch {
	case req.Kind == "" && eof:
		return nil, protoErr(KindTruncated, 0, "EOF in the middle of a request without request= (after "+
			strconv.Itoa(lines)+" line(s))")
	case req.Kind == "":
		return nil, protoErr(KindMissingRequest, 0, `no "request" attribute (Postfix sends request=`+RequestType+")")
	case req.Kind != RequestType:
		return nil, protoErr(KindUnknownRequest, 0, "unknown request type "+quote(req.Kind)+
			" (want "+RequestType+")")
	}
	return req, nil
}

func trimCR(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\r' {
		s = s[:len(s)-1]
	}
	return s
}

// checkName enforces what Postfix's names are: printable ASCII words. The
// error kind separates binary garbage (control bytes, invalid UTF-8: not a
// policy client at all) from a malformed but textual name.
func checkName(name string, n int, line string) error {
	if name == "" {
		return protoErr(KindBadName, n, "empty attribute name in "+quote(line))
	}
	if kind, what := nameProblem(name); what != "" {
		return protoErr(kind, n, what+" in attribute name "+quote(name))
	}
	return nil
}

// nameProblem says what is wrong with a non-empty name, "" if nothing.
func nameProblem(name string) (ErrorKind, string) {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c > ' ' && c < 0x7f {
			continue
		}
		switch {
		case c < ' ' || c == 0x7f:
			return KindBinary, "control byte"
		case c >= 0x80 && !utf8.ValidString(name):
			return KindBinary, "invalid UTF-8"
		default:
			return KindBadName, "space or non-ASCII character"
		}
	}
	return 0, ""
}

// set stores one attribute. A switch on the name compiles to a few length
// and word compares, cheaper than a map lookup.
func set(req *policy.Request, name, value string) {
	switch name {
	case attrRequest:
		req.Kind = value
	case attrProtocolState:
		req.State = policy.State(value)
	case attrProtocolName:
		req.Protocol = value
	case attrHeloName:
		req.HeloName = value
	case attrQueueID:
		req.QueueID = value
	case attrSender:
		req.Sender = value
	case attrRecipient:
		req.Recipient = value
	case attrRecipientCount:
		setInt(req, &req.RcptCount, name, value)
	case attrClientAddress:
		req.ClientAddress = value
		req.Client = parseAddr(value)
	case attrClientName:
		req.ClientName = value
	case attrReverseClientName:
		req.ReverseClientName = value
	case attrInstance:
		req.Instance = value
	case attrSASLMethod:
		req.SASLMethod = value
	case attrSASLUsername:
		req.SASLUsername = value
	case attrSASLSender:
		req.SASLSender = value
	case attrSize:
		if v, ok := parseUint(value, math.MaxInt64); ok {
			req.Size = int64(v)
		} else {
			req.Extra = append(req.Extra, policy.Attr{Name: name, Value: value})
		}
	case attrCCertSubject:
		req.CCertSubject = value
	case attrCCertIssuer:
		req.CCertIssuer = value
	case attrCCertFingerprint:
		req.CCertFinger = value
	case attrCCertPubkey:
		req.CCertPubkey = value
	case attrEncProtocol:
		req.EncProtocol = value
	case attrEncCipher:
		req.EncCipher = value
	case attrEncKeysize:
		setInt(req, &req.EncKeysize, name, value)
	case attrETRNDomain:
		req.ETRNDomain = value
	case attrStress:
		req.Stress = value
	case attrClientPort:
		req.ClientPort = value
	case attrPolicyContext:
		req.PolicyContext = value
	case attrServerAddress:
		req.ServerAddress = value
	case attrServerPort:
		req.ServerPort = value
	case attrCompatLevel:
		req.CompatLevel = value
	case attrMailVersion:
		req.MailVersion = value
	case AttrDryRun:
		req.DryRun = value == "yes"
	default:
		req.Extra = append(req.Extra, policy.Attr{Name: name, Value: value})
	}
}

func setInt(req *policy.Request, dst *int, name, value string) {
	if v, ok := parseUint(value, math.MaxInt); ok {
		*dst = int(v)
		return
	}
	req.Extra = append(req.Extra, policy.Attr{Name: name, Value: value})
}

// parseUint parses a plain decimal number no larger than limit; "" is 0.
// Unlike strconv it takes no sign and allocates no error on failure.
func parseUint(s string, limit uint64) (uint64, bool) {
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 || v > (limit-uint64(c))/10 {
			return 0, false
		}
		v = v*10 + uint64(c)
	}
	return v, true
}

// parseAddr parses client_address. "unknown" is what Postfix sends when the
// address is not available; it is skipped without paying for an error.
func parseAddr(s string) netip.Addr {
	if s == "" || s == "unknown" {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
