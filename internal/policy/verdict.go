package policy

import (
	"strconv"
	"strings"
	"time"
)

// Action is what the MTA is told to do. The set is Postfix's access(5)
// actions that make sense for a policy server.
type Action int

// Actions, in Postfix's access(5) vocabulary.
const (
	// Dunno: no opinion, let the remaining restrictions decide.
	Dunno Action = iota
	// OK accepts (ends the restriction list).
	OK
	// Reply answers with an explicit SMTP code, enhanced code and text
	// ("450 4.7.1 text", "550 5.7.27 text").
	Reply
	// DeferIfPermit defers only if the rest of the restriction list would
	// otherwise permit (postgrey's classic greylisting answer).
	DeferIfPermit
	// DeferIfReject defers only if the rest would otherwise reject.
	DeferIfReject
	// Defer answers 450 (Postfix's access_map_defer_code) with text.
	Defer
	// Reject answers 5xx (Postfix's access_map_reject_code) with text.
	Reject
	// Prepend adds a message header and continues.
	Prepend
	// Hold keeps the message in the hold queue for the admin.
	Hold
	// Discard accepts and silently discards.
	Discard
	// Warn logs a warning in the MTA's log and continues.
	Warn
	// Info logs an informational line in the MTA's log and continues.
	Info
	// Filter sends the message through a content filter (Text = transport:destination).
	Filter
	// Redirect sends the message to another address (Text = address).
	Redirect
	// BCC adds a blind copy recipient (Text = address; Postfix 3.0).
	BCC
)

var actionNames = [...]string{
	Dunno: "DUNNO", OK: "OK", Reply: "", DeferIfPermit: "DEFER_IF_PERMIT",
	DeferIfReject: "DEFER_IF_REJECT", Defer: "DEFER", Reject: "REJECT",
	Prepend: "PREPEND", Hold: "HOLD", Discard: "DISCARD", Warn: "WARN",
	Info: "INFO", Filter: "FILTER", Redirect: "REDIRECT", BCC: "BCC",
}

// String is the action keyword ("REPLY" for an explicit code).
func (a Action) String() string {
	if a == Reply {
		return "REPLY"
	}
	if int(a) < len(actionNames) {
		return actionNames[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Verdict is the engine's answer to a Request.
type Verdict struct {
	Action Action
	// Code is the basic SMTP code for Reply (e.g. 450); 0 otherwise.
	Code int
	// Enhanced is the RFC 3463 enhanced status code ("4.2.0"), may be empty.
	Enhanced string
	// Text is the human-readable part (or the header for Prepend, the
	// address for Redirect/BCC, the transport for Filter).
	Text string
	// Check is the name of the check that decided ("greylist"); empty when
	// no check had an opinion.
	Check string
	// Reason is a short machine-readable reason ("new_triplet",
	// "retry_too_early", "passed", "auto_allowlist", "exempt_sasl", ...).
	Reason string
	// Detail is for people (logs, `tempfail query`), never sent to the MTA:
	// the list entry that exempted a client, the limit that was hit.
	Detail string
	// Wait is how long until a retry can succeed, for deferrals that know.
	Wait time.Duration
}

// Temporary reports whether the verdict tells the client to try again later.
func (v Verdict) Temporary() bool {
	switch v.Action {
	case DeferIfPermit, DeferIfReject, Defer:
		return true
	case Reply:
		return v.Code >= 400 && v.Code < 500
	}
	return false
}

// Line renders the verdict as Postfix's action= value (access(5) syntax).
func (v Verdict) Line() string {
	var buf [160]byte
	return string(v.AppendLine(buf[:0]))
}

// AppendLine appends Line() to dst, for writers that need no string.
func (v Verdict) AppendLine(dst []byte) []byte {
	if v.Action == Reply {
		dst = strconv.AppendInt(dst, int64(v.Code), 10)
	} else {
		dst = append(dst, v.Action.String()...)
	}
	if v.Enhanced != "" && v.Action != Prepend && v.Action != Redirect && v.Action != BCC && v.Action != Filter {
		dst = append(dst, ' ')
		dst = append(dst, v.Enhanced...)
	}
	if v.Text != "" {
		dst = append(dst, ' ')
		dst = append(dst, sanitize(v.Text)...)
	}
	return dst
}

// sanitize keeps a reply on one line: a newline inside action= would end the
// response early and desynchronise the protocol.
func sanitize(s string) string {
	if !strings.ContainsAny(s, "\r\n\x00") {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case '\r', '\n', 0:
			return ' '
		}
		return r
	}, s)
}
