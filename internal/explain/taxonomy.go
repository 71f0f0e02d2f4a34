package explain

// Causes, exactly as the design brief names them ("explain: the taxonomy").
// They are the stable vocabulary of the JSON output; never rename one.
const (
	CauseGreylisting         = "greylisting"
	CauseRateLimit           = "rate_limit"
	CauseRecipientUnverified = "recipient_unverified"
	CauseRecipientUnknown    = "recipient_unknown"
	CauseMailboxFull         = "mailbox_full"
	CauseSenderDomainDNS     = "sender_domain_dns"
	CauseSenderUnverified    = "sender_unverified"
	CauseClientReverseDNS    = "client_reverse_dns"
	CauseDNSLookupFailure    = "dns_lookup_failure"
	CauseTimeout             = "timeout"
	CauseAuthRequired        = "auth_required"
	CauseBlocklist           = "blocklist_reputation"
	CauseSPFDMARC            = "spf_dmarc_policy"
	CauseServerBusy          = "server_busy_resources"
	CauseRemoteFailure       = "remote_relay_or_app_failure"
	CauseContentPolicy       = "content_policy"
	CauseTLSRequired         = "tls_required"
	CauseOther               = "other"
)

// Causes lists every cause in the brief's order.
var Causes = []string{
	CauseGreylisting, CauseRateLimit, CauseRecipientUnverified, CauseRecipientUnknown,
	CauseMailboxFull, CauseSenderDomainDNS, CauseSenderUnverified, CauseClientReverseDNS,
	CauseDNSLookupFailure, CauseTimeout, CauseAuthRequired, CauseBlocklist, CauseSPFDMARC,
	CauseServerBusy, CauseRemoteFailure, CauseContentPolicy, CauseTLSRequired, CauseOther,
}

// Actors: who must do something for the mail to go through.
const (
	ActorSender     = "sender"      // the sending side changes DNS/PTR/SPF, auth, rate, address, content
	ActorReceiver   = "receiver"    // the receiving side or its admin: quota, backend, its own DNS
	ActorBoth       = "both"        // either side may hold the fix
	ActorNobodyWait = "nobody-wait" // clears by itself when the sender retries normally
)

// Actors lists every actor.
var Actors = []string{ActorSender, ActorReceiver, ActorBoth, ActorNobodyWait}

// Stages of the SMTP dialogue (RFC 5321 section 3) a reply answered.
const (
	StageConnect   = "connect"
	StageHelo      = "helo"
	StageMail      = "mail"
	StageRcpt      = "rcpt"
	StageData      = "data"
	StageEndOfData = "end-of-data"
	StageUnknown   = "unknown"
)

// Status hints: what the log format says the sending MTA did, independent of
// the code (design brief: status=deferred, Exim ==, Action: delayed are
// temporary; status=bounced, Exim **, Action: failed, expiry are final).
const (
	HintNone     = ""
	HintDeferred = "deferred" // Postfix status=deferred, Exim == / defer (N), DSN Action: delayed
	HintFailed   = "failed"   // Postfix status=bounced, Exim **, DSN Action: failed
	HintExpired  = "expired"  // Postfix status=expired, Exchange/Exim expiry
	HintSent     = "sent"     // Postfix status=sent, DSN Action: delivered/relayed/expanded
)

func validCause(c string) bool { return contains(Causes, c) }
func validActor(a string) bool { return contains(Actors, a) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
