package postfixpolicy

import "github.com/tempfail/tempfail/internal/policy"

// Attribute names Postfix sends, up to 3.12 (SMTPD_POLICY_README, "Protocol
// description"; the version that introduced each one is noted on the
// corresponding policy.Request field).
const (
	attrRequest           = "request"
	attrProtocolState     = "protocol_state"
	attrProtocolName      = "protocol_name"
	attrHeloName          = "helo_name"
	attrQueueID           = "queue_id"
	attrSender            = "sender"
	attrRecipient         = "recipient"
	attrRecipientCount    = "recipient_count"
	attrClientAddress     = "client_address"
	attrClientName        = "client_name"
	attrReverseClientName = "reverse_client_name"
	attrInstance          = "instance"
	attrSASLMethod        = "sasl_method"
	attrSASLUsername      = "sasl_username"
	attrSASLSender        = "sasl_sender"
	attrSize              = "size"
	attrCCertSubject      = "ccert_subject"
	attrCCertIssuer       = "ccert_issuer"
	attrCCertFingerprint  = "ccert_fingerprint"
	attrCCertPubkey       = "ccert_pubkey_fingerprint"
	attrEncProtocol       = "encryption_protocol"
	attrEncCipher         = "encryption_cipher"
	attrEncKeysize        = "encryption_keysize"
	attrETRNDomain        = "etrn_domain"
	attrStress            = "stress"
	attrClientPort        = "client_port"
	attrPolicyContext     = "policy_context"
	attrServerAddress     = "server_address"
	attrServerPort        = "server_port"
	attrCompatLevel       = "compatibility_level"
	attrMailVersion       = "mail_version"
)

// RequestType is the only request= value Postfix's SMTP server sends
// (SMTPD_POLICY_README: "In this example the request type is
// "smtpd_access_policy"").
const RequestType = "smtpd_access_policy"

// Attributes of our own, never sent by Postfix, used by `tempfail query`.
// The x_ prefix keeps them clear of any future Postfix attribute name.
const (
	// AttrDryRun=yes in a request sets policy.Request.DryRun.
	AttrDryRun = "x_tempfail_dry_run"
	// AttrVerbose=yes in a request asks for AttrCheck, AttrReason and
	// AttrDetail in the response. It stays in Request.Extra; see Verbose.
	AttrVerbose = "x_tempfail_verbose"
	// AttrCheck in a verbose response: the check that decided.
	AttrCheck = "x_tempfail_check"
	// AttrReason in a verbose response: why it decided so.
	AttrReason = "x_tempfail_reason"
	// AttrDetail in a verbose response: the human detail behind the
	// decision (matching list entry, time until a retry passes).
	AttrDetail = "x_tempfail_detail"
	// AttrLimit in a verbose response, once per rate limit that applies to
	// the request: "NAME key=SUBJECT remaining=N [retry_after=SECONDS]
	// ..." (the engine's "limit" notes, see engine.Notes).
	AttrLimit = "x_tempfail_limit"
)

// attrPrefix turns an engine note's name into a response attribute.
const attrPrefix = "x_tempfail_"

// Verbose reports whether req carries x_tempfail_verbose=yes, i.e. whether
// its response should carry x_tempfail_check=, x_tempfail_reason= and
// x_tempfail_detail=.
//
// The flag lives in req.Extra rather than in a policy.Request field because
// it concerns the wire response only, not any check. Extra is empty for
// Postfix's own requests, so this costs nothing on the hot path.
func Verbose(req *policy.Request) bool {
	for i := range req.Extra {
		if req.Extra[i].Name == AttrVerbose && req.Extra[i].Value == "yes" {
			return true
		}
	}
	return false
}
