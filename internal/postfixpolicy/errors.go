package postfixpolicy

import (
	"strconv"
	"unicode/utf8"
)

// ErrorKind classifies protocol errors so the server can log and count them
// by kind (the "kind" label of tempfail_policy_protocol_errors_total).
type ErrorKind int

// Protocol error kinds. The String values are the metric label values.
const (
	// KindNoEquals: a line without "=". Postfix always sends name=value.
	KindNoEquals ErrorKind = iota
	// KindTooLarge: the request exceeds the size limit.
	KindTooLarge
	// KindBinary: a NUL byte anywhere, or a control byte or invalid UTF-8
	// in an attribute name. SMTPD_POLICY_README: "An attribute name must not
	// contain "=", null or newline, and an attribute value must not contain
	// null or newline."
	KindBinary
	// KindBadName: an empty attribute name, or one with a space or a
	// non-ASCII character. Postfix's names are lower-case ASCII words.
	KindBadName
	// KindMissingRequest: the request has no (or an empty) request=
	// attribute; SMTPD_POLICY_README: "The "request" attribute is required."
	KindMissingRequest
	// KindUnknownRequest: request= is not "smtpd_access_policy".
	KindUnknownRequest
	// KindTruncated: EOF in the middle of a request that has no request=
	// (with request=, an EOF-terminated request is accepted, for Exim).
	KindTruncated
	// KindTimeout: the client stopped sending in the middle of a request
	// (Options.ReadTimeout). Reported by Server, never by ReadRequest.
	KindTimeout

	numKinds
)

var kindNames = [numKinds]string{
	KindNoEquals:       "no_equals",
	KindTooLarge:       "too_large",
	KindBinary:         "binary",
	KindBadName:        "bad_name",
	KindMissingRequest: "missing_request",
	KindUnknownRequest: "unknown_request",
	KindTruncated:      "truncated",
	KindTimeout:        "timeout",
}

// String is the kind's metric label value ("no_equals", ...).
func (k ErrorKind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// ProtocolError is a request that violates the policy protocol. The only
// correct reaction is to log it and close the connection without answering.
type ProtocolError struct {
	Kind ErrorKind
	// Line is the 1-based line number within the request the error is
	// about, 0 when it is about the request as a whole.
	Line int
	// Detail says what is wrong, quoting the offending input (truncated,
	// non-printable and non-ASCII bytes escaped, so it is safe to log).
	Detail string
}

func (e *ProtocolError) Error() string {
	if e.Line > 0 {
		return "policy protocol: line " + strconv.Itoa(e.Line) + ": " + e.Detail
	}
	return "policy protocol: " + e.Detail
}

func protoErr(kind ErrorKind, line int, detail string) *ProtocolError {
	return &ProtocolError{Kind: kind, Line: line, Detail: detail}
}

// maxQuoted bounds how much of an offending line an error quotes: enough to
// recognise it in a log, not enough to let a client flood the log.
const maxQuoted = 64

// quote renders untrusted input for an error message: truncated to
// maxQuoted bytes ("..." follows the closing quote when cut) and escaped as a
// Go ASCII string literal, so control bytes and invalid UTF-8 cannot reach
// the log raw.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.QuoteToASCII(s)
	}
	cut := s[:maxQuoted]
	// Do not split a valid multi-byte rune into two escaped halves: back up
	// over continuation bytes to the last rune's start and drop it if cut.
	i := len(cut) - 1
	for i > len(cut)-utf8.UTFMax && i > 0 && cut[i]&0xC0 == 0x80 {
		i--
	}
	if !utf8.FullRuneInString(cut[i:]) {
		cut = cut[:i]
	}
	return strconv.QuoteToASCII(cut) + "..."
}
