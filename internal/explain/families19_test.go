package explain

import (
	"strings"
	"testing"
)

// TestFamilies19 covers rules revisions 2025-11-28.19, written for tune20
// (repository files: the Exim test suite's logs, bounce-parser fixtures,
// Microsoft's NDR articles) and tune21, .20 (tune22) and .21 (tune23), each with an
// input of the family that is not a labelled entry.
func TestFamilies19(t *testing.T) {
	e := mustExplainer(t)
	cases := []familyCase{
		// A DSN part pasted with the MIME header that opens it: Action:
		// failed makes a 4.x.x Status final.
		{"Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 4.2.2", "mailbox_full", "receiver", false},
		{"MIME-Version: 1.0\nFinal-Recipient: rfc822; a@example.org\nAction: delayed\nStatus: 4.4.1", "timeout", "both", true},
		// Postfix qmgr's expiry on its own.
		{"Jan  2 03:04:05 mx postfix/qmgr[812]: 4F1A22C0D3: from=<a@example.org>, status=expired, returned to sender", "timeout", "both", false},
		// Exim, both sides.
		{"2024-05-01 10:00:00 spool directory space check failed: space=1520 inodes=40220", "server_busy_resources", "receiver", true},
		{"2024-05-01 10:00:00 1s2D3f-000AbC-7x == b@example.org R=localuser T=local_delivery defer (-9): failed to lock mailbox /var/mail/b (fcntl)", "remote_relay_or_app_failure", "receiver", true},
		{"2024-05-01 10:00:00 1s2D3f-000AbC-7x == b@example.org R=dnslookup T=remote_smtp defer (-44) H=mx.example.org [192.0.2.7]: SMTP error from remote mail server after RCPT TO:<b@example.org>: 452 4.2.2 Over-quota", "mailbox_full", "receiver", true},
		{"2024-05-01 10:00:00 H=(helo.example) [192.0.2.9] F=<a@example.net> temporarily rejected RCPT <b@example.org>: invalid \"condition\" value \"maybe\"", "remote_relay_or_app_failure", "receiver", true},
		{"2024-05-01 10:00:00 1s2D3f-000AbC-7x TLS error on connection to mx.example.org [192.0.2.7] (SSL_connect): error:0A000086:SSL routines::certificate verify failed", "tls_required", "both", true},
		{"2024-05-01 10:00:00 1s2D3f-000AbC-7x ** b@nowhere.example: nowhere.example is not local, and can't route by DNS", "dns_lookup_failure", "sender", false},
		// Exchange.
		{"451 4.7.0 Proxy session setup failed on Frontend with '451 4.4.0 Primary target IP address responded with: \"421 4.3.2 Service not available.\"'", "remote_relay_or_app_failure", "receiver", true},
		{"550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains", "sender_unverified", "sender", false},
		// Yahoo's content rejection carries the same error-page link as its
		// reputation deferrals.
		{"554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahoo.com/errors/postmaster-28.html", "content_policy", "sender", false},
		// Revision .20 (tune22: what monitoring, NAS and CI tools print).
		{"Error: SMTP IO error: Resource temporarily unavailable (os error 11)", "timeout", "both", false},
		{"Net::SMTP: 554 mx.example.org Relay Service denied for IP 192.0.2.54, closing transmission channel", "auth_required", "sender", false},
		{"System.Net.Mail.SmtpException: Exceeded storage allocation. The server response was: 5.3.4 Error: message size exceeds fixed limit", "content_policy", "sender", false},
		{"smtplib.SMTPDataError: (554, b'Transaction failed: Recipient count exceeds 50.')", "rate_limit", "sender", false},
		{"2024-05-01 10:00:00 1s2D3f-000AbC-7x == b@example.org R=dnslookup defer (-1): lowest numbered MX record points to local host", "other", "both", true},
		{"msmtp: server message: 501 <root@>: domain missing or malformed", "other", "both", false},
		// Revision .21 (tune23).
		{"s-nail: SMTP: Resource temporarily unavailable", "timeout", "both", false},
		{"s-nail: Unexpected EOF on SMTP connection", "timeout", "both", false},
		{"Throttling: Maximum sending rate exceeded. <ErrorResponse xmlns=\"http://ses.amazonaws.com/doc/2010-12-01/\">", "rate_limit", "sender", false},
	}
	checkFamilies(t, e, cases)
}

// TestIsDSNFields: a block of header fields holding a DSN field is a DSN
// paste; a message whose headers end in prose is not, even when its body
// quotes DSN fields further down.
func TestIsDSNFields(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"status: 4.4.7", true},
		{"mime-version: 1.0\nfinal-recipient: rfc822; a@example.org\naction: failed", true},
		{"content-type: message/delivery-status\n\nreporting-mta: dns; mx.example.org", true},
		{"received: from mx.example.org\n\tby relay.example.net; mon, 1 jan 2024\nsubject: undelivered mail\n\nthis is the mail system at host relay.example.net.\n\nstatus: 5.1.1", false},
		{"from: mailer-daemon@example.org\nsubject: failure notice", false},
		{"450 4.7.1 greylisted", false},
		{"", false},
	} {
		if got := isDSNFields(tt.in); got != tt.want {
			t.Errorf("isDSNFields(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestGaveUpOnTemporary: when the sending side gave up on a 4xx failure
// (a bounce, an expiry, Action: failed), the advice says so first and does
// not promise a retry; a deferral, and the rules written for exactly that
// case (greylisting given up on, queue expiry), are left as they are.
func TestGaveUpOnTemporary(t *testing.T) {
	e := mustExplainer(t)
	const note = "This message is not retried any more"
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 4.2.2", true},
		{"ABC: to=<a@example.org>, relay=mx.example.org[192.0.2.1]:25, dsn=4.4.1, status=bounced (connect to mx.example.org[192.0.2.1]:25: Connection timed out)", true},
		{"ABC: to=<a@example.org>, relay=mx.example.org[192.0.2.1]:25, dsn=4.4.1, status=deferred (connect to mx.example.org[192.0.2.1]:25: Connection timed out)", false},
		{"ABC: to=<a@example.org>, relay=mx.example.org[192.0.2.1]:25, dsn=4.7.1, status=bounced (host mx.example.org[192.0.2.1] said: 450 4.7.1 <a@example.org>: Recipient address rejected: Greylisted (in reply to RCPT TO command))", false},
		{"Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 4.4.7\nDiagnostic-Code: smtp; 451 4.4.7 Message expired", false},
		{"Final-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1", false},
	} {
		r := e.Explain(tt.in)
		got := len(r.Fix) > 0 && strings.HasPrefix(r.Fix[0], note)
		if got != tt.want {
			t.Errorf("%q (rule %s): gave-up note %v, want %v", tt.in, r.Rule, got, tt.want)
		}
	}
}
