// Package policy holds the types every front-end and check share: the
// request an MTA asks about and the verdict tempfail answers with.
//
// A front-end (the Postfix policy protocol today; milter and an SMTP proxy
// later) translates its wire format into a Request and renders a Verdict
// back. Front-ends hold no policy of their own.
package policy

import "net/netip"

// State is the SMTP protocol stage a request is made at. The names are
// Postfix's protocol_state values (SMTPD_POLICY_README).
type State string

// Protocol states Postfix sends in protocol_state.
const (
	StateConnect      State = "CONNECT"
	StateEHLO         State = "EHLO"
	StateHELO         State = "HELO"
	StateMail         State = "MAIL"
	StateRcpt         State = "RCPT"
	StateData         State = "DATA"
	StateEndOfMessage State = "END-OF-MESSAGE"
	StateVRFY         State = "VRFY"
	StateETRN         State = "ETRN"
)

// Request is one access-policy question: "may this happen at this stage of
// this SMTP transaction?". Field names follow Postfix's attribute names.
type Request struct {
	// Kind is the value of request=; only "smtpd_access_policy" is valid.
	Kind          string
	State         State  // protocol_state
	Protocol      string // protocol_name: SMTP, ESMTP, LMTP
	HeloName      string // helo_name
	QueueID       string // queue_id (empty before the queue file exists)
	Sender        string // sender, without <>; empty is the null sender
	Recipient     string // recipient, without <>
	RcptCount     int    // recipient_count (meaningful at DATA / END-OF-MESSAGE)
	ClientAddress string // client_address as sent
	Client        netip.Addr
	// ClientName is Postfix's verified client hostname (forward-confirmed),
	// "unknown" when it could not be verified.
	ClientName string
	// ReverseClientName is the unverified PTR name. Never trust it for
	// allow-listing: whoever controls the reverse zone controls it.
	ReverseClientName string
	// Instance identifies one SMTP transaction (MAIL FROM .. end of message)
	// within one smtpd process; tempfail keys per-transaction state on it.
	Instance      string
	SASLMethod    string
	SASLUsername  string
	SASLSender    string
	Size          int64 // size (message size from MAIL FROM SIZE= or the real size at END-OF-MESSAGE)
	CCertSubject  string
	CCertIssuer   string
	CCertFinger   string // ccert_fingerprint
	CCertPubkey   string // ccert_pubkey_fingerprint
	EncProtocol   string // encryption_protocol
	EncCipher     string // encryption_cipher
	EncKeysize    int    // encryption_keysize
	ETRNDomain    string // etrn_domain
	Stress        string // stress ("yes" when smtpd is under stress)
	ClientPort    string // client_port (Postfix 3.0)
	PolicyContext string // policy_context (Postfix 3.1)
	ServerAddress string // server_address (Postfix 3.2)
	ServerPort    string // server_port (Postfix 3.2)
	CompatLevel   string // compatibility_level (Postfix 3.8)
	MailVersion   string // mail_version (Postfix 3.8)

	// Extra keeps attributes this version does not know, in arrival order,
	// so newer Postfix releases never break us.
	Extra []Attr

	// DryRun asks the checks to decide without changing any state
	// (used by `tempfail query`).
	DryRun bool
}

// Attr is one name=value pair.
type Attr struct{ Name, Value string }

// Authenticated reports whether the client authenticated with SMTP AUTH.
func (r *Request) Authenticated() bool { return r.SASLUsername != "" }
