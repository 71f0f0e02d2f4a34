// Package reply is the one catalogue of SMTP replies tempfail knows: basic
// reply codes (RFC 5321 section 4.2), enhanced status codes (RFC 3463 and the
// IANA "SMTP Enhanced Status Codes" registry) and the default replies `serve`
// sends. Everything that writes a reply (the checks) or reads one (explain,
// trace, probe) goes through here, so no reply string is spelled twice.
package reply

import (
	"strconv"
	"strings"
)

// Status is a parsed enhanced status code: class.subject.detail.
type Status struct {
	Class   int // 2 success, 4 persistent transient failure, 5 permanent failure
	Subject int
	Detail  int
}

// ParseStatus parses "4.7.1". It accepts up to three digits per subject and
// detail as RFC 3463 section 2 allows (and Exchange's 4.4.317 needs).
func ParseStatus(s string) (Status, bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Status{}, false
	}
	var n [3]int
	for i, p := range parts {
		if p == "" || len(p) > 3 || (i == 0 && len(p) != 1) {
			return Status{}, false
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return Status{}, false
		}
		n[i] = v
	}
	if n[0] != 2 && n[0] != 4 && n[0] != 5 {
		return Status{}, false
	}
	return Status{n[0], n[1], n[2]}, true
}

func (s Status) String() string {
	return strconv.Itoa(s.Class) + "." + strconv.Itoa(s.Subject) + "." + strconv.Itoa(s.Detail)
}

// Temporary reports whether the class is 4 (RFC 3463 section 3.1).
func (s Status) Temporary() bool { return s.Class == 4 }

// subjectMeaning: RFC 3463 section 3 (the x.y.0 "other" lines).
var subjectMeaning = map[int]string{
	0: "Other or undefined status",
	1: "Addressing status",
	2: "Mailbox status",
	3: "Mail system status",
	4: "Network and routing status",
	5: "Mail delivery protocol status",
	6: "Message content or media status",
	7: "Security or policy status",
}

// detailMeaning is keyed by subject*1000+detail; the texts are the titles
// of RFC 3463 section 3 and later registrations in the IANA registry
// (RFC 3886, 4468, 4865, 4954, 5248, 6531, 7293, 7372, 7505, 8098).
var detailMeaning = map[int]string{
	0:    "Other undefined status",
	1000: "Other address status",
	1001: "Bad destination mailbox address",
	1002: "Bad destination system address",
	1003: "Bad destination mailbox address syntax",
	1004: "Destination mailbox address ambiguous",
	1005: "Destination address valid",
	1006: "Destination mailbox has moved, no forwarding address",
	1007: "Bad sender's mailbox address syntax",
	1008: "Bad sender's system address",
	1009: "Message relayed to non-compliant mailer",
	1010: "Recipient address has null MX",
	2000: "Other or undefined mailbox status",
	2001: "Mailbox disabled, not accepting messages",
	2002: "Mailbox full",
	2003: "Message length exceeds administrative limit",
	2004: "Mailing list expansion problem",
	3000: "Other or undefined mail system status",
	3001: "Mail system full",
	3002: "System not accepting network messages",
	3003: "System not capable of selected features",
	3004: "Message too big for system",
	3005: "System incorrectly configured",
	3006: "Requested priority was changed",
	4000: "Other or undefined network or routing status",
	4001: "No answer from host",
	4002: "Bad connection",
	4003: "Directory server failure",
	4004: "Unable to route",
	4005: "Mail system congestion",
	4006: "Routing loop detected",
	4007: "Delivery time expired",
	5000: "Other or undefined protocol status",
	5001: "Invalid command",
	5002: "Syntax error",
	5003: "Too many recipients",
	5004: "Invalid command arguments",
	5005: "Wrong protocol version",
	5006: "Authentication Exchange line is too long",
	6000: "Other or undefined media error",
	6001: "Media not supported",
	6002: "Conversion required and prohibited",
	6003: "Conversion required but not supported",
	6004: "Conversion with loss performed",
	6005: "Conversion failed",
	6006: "Message content not available",
	6007: "Non-ASCII addresses not permitted for that sender/recipient",
	6008: "UTF-8 string reply is required, but not permitted by the SMTP client",
	6009: "UTF-8 header message cannot be transferred to one or more recipients",
	6010: "Reserved (duplicate of X.6.8)",
	7000: "Other or undefined security status",
	7001: "Delivery not authorized, message refused",
	7002: "Mailing list expansion prohibited",
	7003: "Security conversion required but not possible",
	7004: "Security features not supported",
	7005: "Cryptographic failure",
	7006: "Cryptographic algorithm not supported",
	7007: "Message integrity failure",
	7008: "Authentication credentials invalid",
	7009: "Authentication mechanism is too weak",
	7010: "Encryption Needed",
	7011: "Encryption required for requested authentication mechanism",
	7012: "A password transition is needed",
	7013: "User Account Disabled",
	7014: "Trust relationship required",
	7015: "Priority Level is too low",
	7016: "Message is too big for the specified priority",
	7017: "Mailbox owner has changed",
	7018: "Domain owner has changed",
	7019: "RRVS test cannot be completed",
	7020: "No passing DKIM signature found",
	7021: "No acceptable DKIM signature found",
	7022: "No valid author-matched DKIM signature found",
	7023: "SPF validation failed",
	7024: "SPF validation error",
	7025: "Reverse DNS validation failed",
	7026: "Multiple authentication checks failed",
	7027: "Sender address has null MX",
	7028: "Mail flood detected",
	7029: "ARC validation failure",
	7030: "REQUIRETLS support required",
}

// Meaning is the registered title of an enhanced status code, falling back
// to the subject's generic meaning for unregistered details (RFC 3463
// section 3: a client that does not know a detail uses the subject).
func Meaning(s Status) string {
	if m, ok := detailMeaning[s.Subject*1000+s.Detail]; ok {
		return m
	}
	if m, ok := subjectMeaning[s.Subject]; ok {
		return m
	}
	return "Unknown status"
}
