package postfixpolicy

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/tempfail/tempfail/internal/policy"
)

// EncodeRequest writes req as Postfix would send it, including the empty
// line that ends it, in one Write. Every non-empty string field and every
// non-zero numeric field is written under its Postfix attribute name, in
// SMTPD_POLICY_README's order; then x_tempfail_dry_run=yes if req.DryRun;
// then Extra, verbatim and in order. When req.ClientAddress is empty but
// req.Client is valid, the address is written from Client.
//
// A value that the protocol cannot carry (a newline or NUL, or a trailing
// "\r" that ReadRequest would take for part of a "\r\n") or an Extra name
// that ReadRequest would refuse is an error, and nothing is written.
func EncodeRequest(w io.Writer, req *policy.Request) error {
	b, err := appendRequest(make([]byte, 0, 1024), req, false)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write policy request: %w", err)
	}
	return nil
}

// appendRequest appends the encoded request to dst; verbose adds
// x_tempfail_verbose=yes unless Extra already holds it.
func appendRequest(dst []byte, req *policy.Request, verbose bool) ([]byte, error) {
	e := encoder{b: dst}
	e.str(attrRequest, req.Kind)
	e.str(attrProtocolState, string(req.State))
	e.str(attrProtocolName, req.Protocol)
	e.str(attrHeloName, req.HeloName)
	e.str(attrQueueID, req.QueueID)
	e.str(attrSender, req.Sender)
	e.str(attrRecipient, req.Recipient)
	e.num(attrRecipientCount, int64(req.RcptCount))
	clientAddr := req.ClientAddress
	if clientAddr == "" && req.Client.IsValid() {
		clientAddr = req.Client.String()
	}
	e.str(attrClientAddress, clientAddr)
	e.str(attrClientName, req.ClientName)
	e.str(attrReverseClientName, req.ReverseClientName)
	e.str(attrInstance, req.Instance)
	e.str(attrSASLMethod, req.SASLMethod)
	e.str(attrSASLUsername, req.SASLUsername)
	e.str(attrSASLSender, req.SASLSender)
	e.num(attrSize, req.Size)
	e.str(attrCCertSubject, req.CCertSubject)
	e.str(attrCCertIssuer, req.CCertIssuer)
	e.str(attrCCertFingerprint, req.CCertFinger)
	e.str(attrEncProtocol, req.EncProtocol)
	e.str(attrEncCipher, req.EncCipher)
	e.num(attrEncKeysize, int64(req.EncKeysize))
	e.str(attrETRNDomain, req.ETRNDomain)
	e.str(attrStress, req.Stress)
	e.str(attrCCertPubkey, req.CCertPubkey)
	e.str(attrClientPort, req.ClientPort)
	e.str(attrPolicyContext, req.PolicyContext)
	e.str(attrServerAddress, req.ServerAddress)
	e.str(attrServerPort, req.ServerPort)
	e.str(attrCompatLevel, req.CompatLevel)
	e.str(attrMailVersion, req.MailVersion)
	if req.DryRun {
		e.str(AttrDryRun, "yes")
	}
	for _, a := range req.Extra {
		if e.err == nil {
			e.err = checkExtraName(a.Name)
		}
		e.attr(a.Name, a.Value)
	}
	if verbose && !Verbose(req) {
		e.str(AttrVerbose, "yes")
	}
	e.b = append(e.b, '\n')
	return e.b, e.err
}

// encoder appends name=value lines and remembers the first bad value.
type encoder struct {
	b   []byte
	err error
}

func (e *encoder) str(name, value string) {
	if value != "" {
		e.attr(name, value)
	}
}

func (e *encoder) num(name string, v int64) {
	if v < 0 && e.err == nil {
		// ReadRequest takes only plain decimals, as Postfix sends.
		e.err = fmt.Errorf("encode policy request: %s is negative (%d)", name, v)
	}
	if v != 0 {
		e.b = append(e.b, name...)
		e.b = append(e.b, '=')
		e.b = strconv.AppendInt(e.b, v, 10)
		e.b = append(e.b, '\n')
	}
}

func (e *encoder) attr(name, value string) {
	if e.err == nil {
		switch {
		case strings.ContainsAny(value, "\n\x00"):
			e.err = fmt.Errorf("encode policy request: value of %q contains a newline or NUL", name)
		case strings.HasSuffix(value, "\r"):
			e.err = fmt.Errorf("encode policy request: value of %q ends in \\r", name)
		}
	}
	e.b = append(e.b, name...)
	e.b = append(e.b, '=')
	e.b = append(e.b, value...)
	e.b = append(e.b, '\n')
}

// checkExtraName refuses a name ReadRequest would refuse or split wrongly.
func checkExtraName(name string) error {
	what := ""
	switch {
	case name == "":
		what = "is empty"
	case strings.IndexByte(name, '=') >= 0:
		what = `contains "="`
	default:
		if _, p := nameProblem(name); p != "" {
			what = "contains a " + p
		}
	}
	if what == "" {
		return nil
	}
	return fmt.Errorf("encode policy request: Extra attribute name %s %s", strconv.QuoteToASCII(name), what)
}
