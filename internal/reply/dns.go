package reply

// Replies of the DNS-based checks (design brief, "Replies serve sends").
//
// Texts carry no "Sender address rejected:" or "Client host rejected:"
// prefix: Postfix adds "<name>: <class> rejected: " to every 4xx/5xx answer
// of a policy server itself, with the name and class of the restriction
// list that asked (smtpd_check.c, check_table_result), and rewrites X.1.N
// enhanced codes to fit (smtpd_dsn_fix.c: 4.1.8 becomes 4.1.2 under
// "Recipient address"). Asked from smtpd_sender_restrictions the sender
// domain reply reads "450 4.1.8 <alice@nowhere.example>: Sender address
// rejected: Domain not found", as Postfix's own reject_unknown_sender_domain;
// asked from smtpd_recipient_restrictions it reads "450 4.1.2 <bob@rcpt>:
// Recipient address rejected: Domain not found". docs/replies.md lists both.
const (
	// SenderDomainEnhanced is X.1.8 "bad sender's system address".
	SenderDomainEnhanced = "4.1.8"
	SenderDomainText     = "Domain not found"
	// NullMXEnhanced is X.7.27 "sender address has null MX" (RFC 7505
	// section 4.2).
	NullMXEnhanced = "5.7.27"
	NullMXText     = "Domain does not accept mail"

	// NoPTREnhanced is X.7.1 "delivery not authorized", what Postfix's
	// reject_unknown_reverse_client_hostname uses; {ip} is the client address.
	NoPTREnhanced = "4.7.1"
	NoPTRText     = "cannot find your reverse hostname, [{ip}]"
	// RDNSMismatchEnhanced is X.7.25 "reverse DNS validation failed"
	// (RFC 7372 section 3.3); {ip} is the client address.
	RDNSMismatchEnhanced = "4.7.25"
	RDNSMismatchText     = "reverse DNS does not match, [{ip}]"

	// SPFFailEnhanced is X.7.23 "SPF validation failed" (RFC 7372
	// section 3.2); SPFErrorEnhanced X.7.24 "SPF validation error".
	SPFFailEnhanced  = "5.7.23"
	SPFErrorEnhanced = "4.7.24"

	// DNSBLEnhanced is X.7.1 "delivery not authorized, message refused",
	// and DNSBLText the wording of postscreen(8) for a client whose DNSBL
	// score reaches postscreen_dnsbl_threshold:
	//
	//	550 5.7.1 Service unavailable; client [203.0.113.7] blocked using zen.spamhaus.org
	//
	// {ip} is the client address, {list} the list with the largest
	// contribution (internal/dnsbl, Result.BlockedBy). The code is
	// CodeMailboxUnavailable (550); 450 4.7.1 with action = "defer".
	DNSBLEnhanced = "5.7.1"
	DNSBLText     = "Service unavailable; client [{ip}] blocked using {list}"
)

// Valid reports whether code and enhanced make a reply tempfail may send
// for a check's decision: a 4xx or 5xx code, and an enhanced code of the
// same class (RFC 3463 section 2).
func Valid(code int, enhanced string) bool {
	if code < 400 || code > 599 {
		return false
	}
	s, ok := ParseStatus(enhanced)
	return ok && s.Class == code/100
}
