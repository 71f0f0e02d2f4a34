package maillog

import "time"

// Kind says what one log line reports.
type Kind uint8

const (
	// KindUnparsed: the line has no recognisable syslog/Exim framing, or a
	// Postfix/Exim line whose structure is broken (truncated, binary junk).
	// Counted and sampled by Reader.
	KindUnparsed Kind = iota
	// KindIgnored: well-framed, but from a program that is neither Postfix
	// nor Exim (dovecot, amavis, kernel...).
	KindIgnored
	// KindOther: a Postfix or Exim line that is understood but carries
	// nothing the message model uses (anvil statistics, master start...).
	KindOther
	KindConnect        // smtpd/postscreen "connect from host[ip]"
	KindDisconnect     // smtpd "disconnect from host[ip] ehlo=1 ... commands=N"; Counters holds the counters
	KindLostConnection // smtpd "lost connection after CMD from host[ip]" / "timeout after ..."
	KindClient         // smtpd "QUEUEID: client=host[ip], sasl_method=..., sasl_username=..."
	KindPickup         // pickup "QUEUEID: uid=N from=<sender>"
	KindMessageID      // cleanup "QUEUEID: message-id=<...>"
	KindQueued         // qmgr "QUEUEID: from=<..>, size=N, nrcpt=N (queue active)"; Exim "<="
	KindDelivery       // "QUEUEID: to=<..>, ..., status=..." (Postfix); "=>", "->", "*>", "==", "**" (Exim)
	KindExpired        // qmgr "QUEUEID: from=<..>, status=expired, returned to sender"
	KindRemoved        // qmgr/postsuper "QUEUEID: removed"; Exim "Completed"
	KindReject         // reject/defer/hold/discard/milter-* actions, NOQUEUE or with a queue id; Exim "rejected RCPT"
	KindBounce         // bounce "QUEUEID: sender non-delivery notification: NEWID"
	KindHold           // postsuper "placed on hold"; Exim "Frozen"
	KindRelease        // postsuper "released from hold"; Exim "Unfrozen"
	KindRequeue        // postsuper "requeued"
	KindConnectError   // smtp/lmtp "connect to host[ip]:25: Connection timed out"
	KindTLS            // "Trusted TLS connection established to host[ip]:25: ..."
	KindAuthFailed     // smtpd "warning: host[ip]: SASL LOGIN authentication failed: ..."
	KindPostscreen     // postscreen verdicts: PASS NEW/OLD, DNSBL rank, PREGREET, ...; Action holds the verb
	KindWarning        // "warning:", "error:", "fatal:", "panic:" lines not covered above
	numKinds
)

var kindNames = [...]string{
	"unparsed", "ignored", "other", "connect", "disconnect", "lost-connection", "client", "pickup",
	"message-id", "queued", "delivery", "expired", "removed", "reject", "bounce", "hold", "release",
	"requeue", "connect-error", "tls", "auth-failed", "postscreen", "warning",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// MTA is the software that wrote a line.
type MTA uint8

const (
	MTAUnknown MTA = iota
	MTAPostfix
	MTAExim
)

func (m MTA) String() string {
	switch m {
	case MTAPostfix:
		return "postfix"
	case MTAExim:
		return "exim"
	}
	return ""
}

// Delays is Postfix's "delays=a/b/c/d" split (postconf(5),
// delay_logging_resolution_limit): time before the queue manager (including
// message transmission into the queue), time in the queue manager, connection
// setup (DNS, HELO, TLS) and message transmission.
type Delays struct {
	BeforeQmgr   float64 `json:"before_qmgr"`
	InQmgr       float64 `json:"in_qmgr"`
	Connection   float64 `json:"connection"`
	Transmission float64 `json:"transmission"`
}

// Event is one parsed log line. All strings are substrings of Line, so
// keeping one field keeps the line alive but costs no copy. Fields that do
// not apply to a Kind are zero.
type Event struct {
	Kind Kind
	MTA  MTA

	Time time.Time
	Host string // the host field of the syslog header ("" for Exim's own log file unless Parser.DefaultHost is set)
	// Program is the full syslog tag without the pid: "postfix/smtp",
	// "postfix-out/submission/smtpd", "exim". Daemon is its last path
	// element ("smtpd"); Instance the rest ("postfix-out/submission"), which
	// is the syslog_name prefix of a Postfix multi-instance or master.cf
	// service setup.
	Program  string
	Daemon   string
	Instance string
	PID      int

	// QueueID is the Postfix queue id or Exim message id; "" for NOQUEUE.
	QueueID string

	// Peer, connection and session.
	Client     string // "host[ip]" (Postfix) or "host [ip]" (Exim H= on "<=")
	ClientIP   string
	SASLMethod string
	SASLUser   string
	Counters   string // smtpd disconnect counters "ehlo=1 mail=1 rcpt=0/1 data=0 commands=2/3"

	// Envelope and message.
	MessageID string
	From      string // envelope sender without <>; "" is the null sender
	To        string
	OrigTo    string
	Size      int64
	Nrcpt     int
	UID       int // pickup uid=

	// Delivery.
	Relay     string // "mx.example.com[192.0.2.1]:25", "none", "local", "dovecot" / Exim H= "host [ip]"
	ConnUse   int
	Delay     float64 // total delay in seconds (Postfix delay=)
	Delays    Delays
	HasDelays bool
	DSN       string // enhanced status code (dsn=), or the one found in the reply text
	Status    string // sent, deferred, bounced, expired (Postfix status=; Exim => sent, == deferred, ** bounced)
	Reply     string // the text in parentheses after status=, an Exim error/C= text, or a reject's reply text
	Code      int    // basic SMTP reply code found in the reply or reject text, 0 if none
	TLS       string // TLS level ("Trusted", "Untrusted", "Anonymous", "Verified") or a tls= field
	Router    string // Exim R=
	Transport string // Exim T= on deliveries
	Flag      string // Exim flag: "<=", "=>", "->", "*>", "==", "**", ">>"

	// Rejects and other actions.
	Action string // reject, defer, hold, discard, milter-reject, ...; postscreen verb ("PASS NEW")
	Stage  string // "RCPT", "END-OF-MESSAGE", "header Subject: ...", "CONNECT", ...
	Proto  string
	Helo   string

	// Bounce notification / re-injection.
	NewQueueID string // bounce: the notification's queue id; Exim "<= <>" R=: the message bounced
	BounceType string // "sender non-delivery notification", "sender delivery status notification", ...

	// Text is the free-form remainder of lines that are not split further
	// (warnings, connect errors, postscreen details).
	Text string

	// Source position.
	Line   string // the original line, without line terminator
	File   string
	LineNo int64
}

func (ev *Event) reset() { *ev = Event{} }
