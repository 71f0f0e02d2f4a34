package postfixpolicy

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/tempfail/tempfail/internal/policy"
)

// WriteResponse writes the answer to one request and flushes it:
// "action=<v.Line()>\n", then, if verbose, "x_tempfail_check=<v.Check>\n",
// "x_tempfail_reason=<v.Reason>\n" and, when there is one,
// "x_tempfail_detail=<v.Detail and v.Wait>\n", then the empty line that ends it
// (SMTPD_POLICY_README: "The server reply is one name=value attribute and
// it, too, is terminated by an empty line").
//
// The verbose lines are for `tempfail query` only: Postfix expects the one
// action attribute and must never be sent more.
func WriteResponse(w *bufio.Writer, v policy.Verdict, verbose bool) error {
	return writeResponseNotes(w, v, verbose, nil)
}

// writeResponseNotes is WriteResponse with the engine's notes for a verbose
// answer: each note NAME=VALUE is sent as x_tempfail_NAME=VALUE after the
// verbose lines (one x_tempfail_limit= per rate limit).
func writeResponseNotes(w *bufio.Writer, v policy.Verdict, verbose bool, notes []policy.Attr) error {
	w.WriteString("action=")
	if v.Action != policy.Reply && v.Enhanced == "" && v.Text == "" {
		// The common bare keyword (DUNNO, OK, ...): Line() would give the
		// same constant but allocate building it.
		w.WriteString(v.Action.String())
	} else {
		// Rendered straight into the writer's free buffer: no string.
		w.Write(v.AppendLine(w.AvailableBuffer()))
	}
	w.WriteByte('\n')
	if verbose {
		writeLine(w, AttrCheck, v.Check)
		writeLine(w, AttrReason, v.Reason)
		if d := detail(v); d != "" { // only verbose answers pay for building it
			writeLine(w, AttrDetail, d)
		}
		for _, n := range notes {
			writeLine(w, attrPrefix+noteName(n.Name), n.Value)
		}
	}
	w.WriteByte('\n')
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write policy response: %w", err)
	}
	return nil
}

// writeLine writes name=value with newlines and NULs in value blanked, so a
// stray one cannot end the response early and desynchronise the protocol.
func writeLine(w *bufio.Writer, name, value string) {
	w.WriteString(name)
	w.WriteByte('=')
	if strings.ContainsAny(value, "\r\n\x00") {
		value = strings.Map(func(r rune) rune {
			switch r {
			case '\r', '\n', 0:
				return ' '
			}
			return r
		}, value)
	}
	w.WriteString(value)
	w.WriteByte('\n')
}

// Response is a policy server's answer as a client reads it.
type Response struct {
	// Action is the raw action= value: an access(5) action such as
	// "DUNNO" or "DEFER_IF_PERMIT Greylisted, see ...".
	Action string
	// Check and Reason are x_tempfail_check= and x_tempfail_reason=, sent
	// only in answer to a verbose request.
	Check, Reason string
	// Detail is x_tempfail_detail=: the list entry, limit or wait behind
	// the decision, for people.
	Detail string
	// Limits are the x_tempfail_limit= values, one per rate limit that
	// applies to the request: "NAME key=SUBJECT remaining=N
	// [retry_after=SECONDS | never=yes] cost=C rate=R burst=B scope=S
	// action=A [mode=observe]".
	Limits []string
	// Attrs is every attribute of the answer, in order, action included.
	Attrs []policy.Attr
}

// noteName keeps a note's name to [a-z0-9_] so it cannot break the
// name=value framing.
func noteName(s string) string {
	if s == "" {
		return "note"
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// ErrNoResponse means the server closed the connection without answering.
// A policy server does that on a protocol error (SMTPD_POLICY_README: "In
// case of trouble the policy server must not send a reply").
var ErrNoResponse = errors.New("policy server closed the connection without answering")

// ReadResponse reads one answer: name=value lines up to an empty line, at
// most max bytes (DefaultMaxRequestSize when max <= 0). It needs action=.
func ReadResponse(br *bufio.Reader, max int) (Response, error) {
	d := decoder{br: br, max: max}
	raw, lines, eof, err := d.gather()
	switch {
	case err == io.EOF:
		return Response{}, ErrNoResponse
	case err != nil:
		return Response{}, fmt.Errorf("read policy response: %w", err)
	case eof:
		return Response{}, fmt.Errorf("read policy response: %w (EOF after %d line(s), before the empty line)",
			ErrNoResponse, lines)
	}
	var r Response
	for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		line = trimCR(line)
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return Response{}, fmt.Errorf("read policy response: no \"=\" in %s", quote(line))
		}
		r.Attrs = append(r.Attrs, policy.Attr{Name: name, Value: value})
		switch name {
		case "action":
			r.Action = value
		case AttrCheck:
			r.Check = value
		case AttrReason:
			r.Reason = value
		case AttrDetail:
			r.Detail = value
		case AttrLimit:
			r.Limits = append(r.Limits, value)
		}
	}
	if r.Action == "" {
		return Response{}, errors.New("read policy response: no action= attribute")
	}
	return r, nil
}

// detail is the verbose response's human detail: the verdict's own Detail
// and, for deferrals that know it, when a retry can succeed.
func detail(v policy.Verdict) string {
	d := v.Detail
	if v.Wait > 0 {
		w := "retry can pass in " + v.Wait.String()
		if d != "" {
			d += "; " + w
		} else {
			d = w
		}
	}
	return d
}
