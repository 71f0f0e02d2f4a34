package explain

import (
	"strings"
	"testing"
)

// TestFamilies14 covers the families of rules revision 2025-11-28.14: the
// mail libraries' own failure wording (final: no queue retries it) and the
// rules written for tune15-17, each with an input of the family that is not
// a labelled entry.
func TestFamilies14(t *testing.T) {
	e := mustExplainer(t)
	cases := []familyCase{
		// nodemailer, Symfony/SwiftMailer, .NET, Jakarta Mail, Perl.
		{"Error: Greeting never received", "timeout", "both", false},
		{"Error: Unexpected socket close", "timeout", "both", false},
		{`Error: Missing credentials for "LOGIN"`, "auth_required", "sender", false},
		{"Connection could not be established with host smtp.example.com :stream_socket_client(): unable to connect to tcp://smtp.example.com:587 (Connection timed out)", "timeout", "both", false},
		{"SMTP Failed to connect to mail server: Connection refused at /usr/share/perl5/MIME/Lite.pm line 2880.", "timeout", "both", false},
		{"Grafana: dial tcp 127.0.0.1:25: connect: connection refused", "timeout", "both", false},
		// Logins and sender addresses.
		{"454 4.7.0 Too many login attempts, please try again later. x1sm2.3 - gsmtp", "rate_limit", "sender", true},
		{"553 5.7.1 User [a@example.com] not authorized to send on behalf of <b@example.org>", "auth_required", "sender", false},
		{"smtplib.SMTPAuthenticationError: (535, b'Error: authentication failed, system busy')", "auth_required", "sender", false},
		{"554 5.2.0 STOREDRV.Submission.Exception:SendAsDeniedException.MapiExceptionSendAsDenied; Failed to process message", "auth_required", "sender", false},
		{"SMTPSenderRefused: (553, 'Sender address is not valid for your login.', 'x@example.org')", "auth_required", "sender", false},
		// The receiving side and local backends.
		{"SMTP error from remote mail server after end of data: 550 5.7.1 Message rejected by policy", "content_policy", "sender", false},
		{"May  1 10:00:00 mx postfix/lmtp[1]: ABC: to=<a@example.org>, relay=127.0.0.1[127.0.0.1]:24, delay=1, delays=0/0/0/1, dsn=4.3.0, status=deferred (host 127.0.0.1[127.0.0.1] said: 451 4.3.0 Internal error)", "remote_relay_or_app_failure", "receiver", true},
		{"<a@example.org>: delivery temporarily suspended: lost connection with dovecot[172.22.1.250] while sending end of data", "remote_relay_or_app_failure", "receiver", true},
		{"gomail: could not send email 1: exit status 78", "other", "sender", false},
		// Revision .15: more of the libraries' own wording.
		{"Extension missing: openssl", "tls_required", "both", false},
		{"sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target", "tls_required", "both", false},
		{"EOFError: end of file reached", "timeout", "both", false},
		{"socket.timeout: timed out", "timeout", "both", false},
		{"sendmail: Cannot open smtp.example.com:587", "timeout", "both", false},
		{"You must provide at least one recipient email address.", "other", "sender", false},
		{"Could not instantiate mail function.", "other", "sender", false},
		{"javax.net.ssl.SSLException: Unsupported or unrecognized SSL message", "tls_required", "both", false},
		{"smtplib.SMTPSenderRefused: (550, b'User has no permission', 'a@163.com')", "auth_required", "sender", false},
		{"reply: '503 Error: need EHLO and AUTH first !'", "auth_required", "sender", false},
		{"SMTP Connect() falhou. https://github.com/PHPMailer/PHPMailer/wiki/Troubleshooting", "timeout", "both", false},
		{"Kesalahan SMTP: Tidak dapat terhubung ke host SMTP.", "timeout", "both", false},
		{"OSError: [WinError 10060] A connection attempt failed because the connected party did not properly respond", "timeout", "both", false},
		{"550 Mail is rejected by recipients: too frequently sending", "rate_limit", "sender", false},
		// Revision .16: Gmail's documented replies about the client's login.
		{"554 5.7.0 Too many unauthenticated commands.", "auth_required", "sender", false},
		{"504 5.7.4 Unrecognized Authentication Type.", "auth_required", "sender", false},
		// Revision .17.
		{"550 5.1.0 <www-data@example.org>: Sender address rejected: User unknown in virtual alias table", "sender_unverified", "sender", false},
		{"421 mx.example.org You talk too soon", "other", "sender", true},
		{"*** Exception: HandshakeFailed (Error_Protocol (\"bad header\",True,HandshakeFailure))", "tls_required", "both", false},
		{"Error Domain=MCOErrorDomain Code=1 \"A stable connection to the server could not be established.\"", "timeout", "both", false},
	}
	checkFamilies(t, e, cases)
	// Postfix's bounce is final even when the reason it quotes is a
	// deferral; its delay notice stays temporary.
	bounce := "I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<a@example.org>: delivery temporarily suspended: connect to mx.example.org[192.0.2.7]:25: Connection timed out"
	if r := e.Explain(bounce); r.Temporary {
		t.Errorf("Postfix bounce read as temporary (rule %s)", r.Rule)
	}
	delay := "Your message could not be delivered for 4.0 hours.\nIt will be retried until it is 5.0 days old.\n\n<a@example.org>: delivery temporarily suspended: connect to mx.example.org[192.0.2.7]:25: Connection timed out"
	if r := e.Explain(delay); !r.Temporary {
		t.Errorf("Postfix delay notice read as final (rule %s)", r.Rule)
	}
}

// TestMatchTextMasksAddresses: the rules do not read an address's local
// part ("noreply-spf@" is no SPF failure), but they still read its domain
// and a URL's query before an address.
func TestMatchTextMasksAddresses(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"from = noreply-spf@mail.example.eu, details = Address lookup failed", "from = x@mail.example.eu, details = Address lookup failed"},
		{"550 <spamtrap.user+tag@example.org>: rejected", "550 <x@example.org>: rejected"},
		{"see http://www.openspf.org/why.html?sender=al@example.com&ip=192.0.2.1", "see http://www.openspf.org/why.html?sender=x@example.com&ip=192.0.2.1"},
		{"MAIL FROM:<> rejected", "MAIL FROM:<> rejected"},
		{"user@", "x@"},
		{"@example.com", "@example.com"},
	} {
		var b strings.Builder
		writeMasked(&b, tt.in)
		if b.String() != tt.want {
			t.Errorf("writeMasked(%q) = %q, want %q", tt.in, b.String(), tt.want)
		}
	}
	r := mustExplainer(t).Explain(`DSN permanent failure notification, from = "noreply-spf@mail.example.eu", code = 451, details = "Address lookup failed."`)
	if r.Cause == CauseSPFDMARC {
		t.Errorf("an address's local part decided the cause: %s (rule %s)", r.Cause, r.Rule)
	}
}
