package explain

import "testing"

// TestExtract covers every input form explain recognises.
func TestExtract(t *testing.T) {
	tests := []struct {
		name, in string
		code     int
		enh      string
		stage    string
		remote   string
		hint     string
		format   string
		text     string // substring the reply text must contain ("" = not checked)
	}{
		{"bare", "450 4.7.1 <u@r.com>: Recipient address rejected: Greylisted", 450, "4.7.1", StageUnknown, "", "", "reply", "Greylisted"},
		{"bare multi-line", "450-4.2.1 The user you are trying to contact is receiving mail at a rate that\n450-4.2.1 prevents additional messages.\n450 4.2.1 More at https://x - gsmtp", 450, "4.2.1", StageUnknown, "", "", "reply", "at a rate that prevents additional"},
		{"multi-line joined by postfix", "host mx[1.2.3.4] said: 450-4.2.1 receiving mail at a rate that 450-4.2.1 prevents additional 450 4.2.1 visit (in reply to RCPT TO command)", 450, "4.2.1", StageRcpt, "mx[1.2.3.4]", "", "postfix", "rate that prevents additional visit"},
		{"no basic code", "4.2.0 <x@y>: Recipient address rejected: Greylisted for 300 seconds", 0, "4.2.0", StageUnknown, "", "", "reply", "Greylisted for 300"},
		{"enhanced only", "5.1.1", 0, "5.1.1", StageUnknown, "", "", "reply", ""},
		{"basic only", "450 Throttled", 450, "", StageUnknown, "", "", "reply", "Throttled"},
		{"client prose around reply", "Server Response: '550 <a@b>... Relaying Denied', Port: 25, Secure (SSL): No, Server Error: 550, Error Number: 0x800CCC79", 550, "", StageUnknown, "", "", "reply", "Relaying Denied"},
		{"qmail enhanced at the end", "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", 553, "5.7.1", StageUnknown, "", "", "reply", "allowed rcpthosts"},
		{"expected code skipped", `Expected response code 250 but got code "550", with message "550 5.7.1 Message rejected as spam"`, 550, "5.7.1", StageUnknown, "", "", "reply", "spam"},
		{"ip is not a code", "connect to 192.168.1.250[192.168.1.250]:25: Connection refused", 0, "", StageConnect, "", "", "text", "Connection refused"},
		{"yahoo id not an enhanced code", "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred - 4.16.55.1; see https://x", 421, "4.7.0", StageUnknown, "", "", "reply", "4.16.55.1"},
		{"transcript: the failing reply, not the 250 before it", "MAIL FROM: a@b.example\n250 ok\nRCPT TO: c@d.example\n421 temporary envelope failure (#4.3.0)\nQUIT", 421, "4.3.0", StageUnknown, "", "", "reply", "temporary envelope failure"},
		{"a 250 alone is still read", "250 2.0.0 Ok: queued as 4F1A2B", 250, "2.0.0", StageUnknown, "", "", "reply", "queued"},
		{"sendmail's warning banner is not Exim's ** flag", "** THIS IS A WARNING MESSAGE ONLY **\n** YOU DO NOT NEED TO RESEND YOUR MESSAGE **\n451 <u@d>... <d> : Name server timeout\nWarning: message still undelivered after 4 hours\nWill keep trying until message is 5 days old", 451, "", StageUnknown, "", HintDeferred, "reply", "Name server timeout"},
		{"an HTTP status is not a code", "RESEND ERROR {\n  statusCode: 403,\n  message: 'The example.com domain is not verified'\n}", 0, "", StageUnknown, "", "", "text", "not verified"},
		{"a JSON error code is not a code", `Error with sent body: {"ErrorCode":400,"Message":"Sender signature not defined for From address."}`, 0, "", StageUnknown, "", "", "text", "Sender signature"},
		{"a code field still counts", `send failed: code: 550, message: mailbox unavailable`, 550, "", StageUnknown, "", "", "reply", ""},
		{"a size is not a code", "dovecot: lmtp(u): Fatal: master: service(lmtp): child 2 returned error 83 (Out of memory (service lmtp { vsz_limit=256 MB }, you may need to increase it)", 0, "", StageUnknown, "", "", "text", "Out of memory"},
		{"postfix smtpd NOQUEUE without the colon", "postfix/smtpd[470]: NOQUEUE: reject: RCPT from unknown[192.0.2.68] 450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.68]; from=<a@b> to=<c@d> proto=ESMTP helo=<x>", 450, "4.7.25", StageRcpt, "unknown[192.0.2.68]", "", "postfix-smtpd", "cannot find your hostname"},
		{"postfix smtpd NOQUEUE", "Oct 31 01:28:43 mail postfix/smtpd[3468]: NOQUEUE: reject: RCPT from mail.example.com[192.0.2.7]: 450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.7]; from=<a@b> to=<c@d> proto=ESMTP helo=<x>", 450, "4.7.1", StageRcpt, "mail.example.com[192.0.2.7]", "", "postfix-smtpd", "reverse hostname, [192.0.2.7]"},
		{"postfix milter-reject", "postfix/cleanup[1]: ID: milter-reject: END-OF-MESSAGE from h[1.2.3.4]: 4.7.1 Try again later; from=<a@b> to=<c@d>", 0, "4.7.1", StageEndOfData, "h[1.2.3.4]", "", "postfix-smtpd", "Try again later"},
		{"postfix status deferred said", "postfix/smtp[1]: ID: to=<a@b>, relay=mx.b[1.2.3.4]:25, delay=1, dsn=4.7.1, status=deferred (host mx.b[1.2.3.4] said: 450 4.7.1 Greylisted (in reply to RCPT TO command))", 450, "4.7.1", StageRcpt, "mx.b[1.2.3.4]", HintDeferred, "postfix", "Greylisted"},
		{"postfix dsn= used without enhanced", "postfix/smtp[1]: ID: to=<a@b>, relay=x[1.2.3.4]:8025, dsn=4.0.0, status=deferred (host x[1.2.3.4] said: 450 failed to send notification (in reply to end of DATA command))", 450, "4.0.0", StageEndOfData, "x[1.2.3.4]", HintDeferred, "postfix", "failed to send notification"},
		{"postfix connect timeout", "postfix/smtp[1]: ID: to=<a@b>, relay=none, delay=150, dsn=4.4.1, status=deferred (connect to mx.b[1.2.3.4]:25: Connection timed out)", 0, "4.4.1", StageConnect, "mx.b[1.2.3.4]", HintDeferred, "postfix", "Connection timed out"},
		{"postfix suspended dns", "postfix/error[1]: ID: to=<a@b>, relay=none, dsn=4.4.3, status=deferred (delivery temporarily suspended: Host or domain name not found. Name service error for name=b type=MX: Host not found, try again)", 0, "4.4.3", StageUnknown, "", HintDeferred, "postfix", "Name service error"},
		{"postfix greeting", "postfix/smtp[1]: ID: to=<a@b>, relay=mx.b[1.2.3.4]:25, dsn=4.4.2, status=deferred (lost connection with mx.b[1.2.3.4] while receiving the initial server greeting)", 0, "4.4.2", StageConnect, "mx.b[1.2.3.4]", HintDeferred, "postfix", "initial server greeting"},
		{"postfix bounced", "ID: to=<a@b>, relay=mx.b[1.2.3.4]:25, dsn=5.1.1, status=bounced (host mx.b[1.2.3.4] said: 550 5.1.1 User unknown (in reply to RCPT TO command))", 550, "5.1.1", StageRcpt, "mx.b[1.2.3.4]", HintFailed, "postfix", "User unknown"},
		{"postfix expired", "ID: to=<a@b>, relay=none, dsn=4.4.1, status=expired, returned to sender", 0, "4.4.1", StageUnknown, "", HintExpired, "postfix", ""},
		{"exim defer", "2024-01-01 10:00:00 1rAbc-000 == a@b R=dnslookup T=remote_smtp defer (-44) H=mx.b [1.2.3.4]: SMTP error from remote mail server after RCPT TO:<a@b>: 450 4.7.1 Greylisted", 450, "4.7.1", StageRcpt, "mx.b[1.2.3.4]", HintDeferred, "exim", "Greylisted"},
		{"exim fail", "2024-01-01 10:00:00 1rAbc-000 ** a@b R=dnslookup T=remote_smtp H=mx.b [1.2.3.4]: SMTP error from remote mail server after end of data: 550 5.7.1 Rejected", 550, "5.7.1", StageEndOfData, "mx.b[1.2.3.4]", HintFailed, "exim", "Rejected"},
		{"exim defer errno", "2024-01-01 10:00:00 1rAbc-000 == a@b R=dnslookup T=remote_smtp defer (110): Connection timed out", 0, "", StageConnect, "", HintDeferred, "exim", "Connection timed out"},
		{"exim wording alone", "SMTP error from remote mail server after end of data: 450 4.7.1 Temporary delayed by rate limit", 450, "4.7.1", StageEndOfData, "", "", "exim", "rate limit"},
		{"exim pipelined mail from", "H=mx [1.2.3.4]: SMTP error from remote mail server after pipelined MAIL FROM:<s@x> SIZE=4169: 451 4.7.650 rate limited", 451, "4.7.650", StageMail, "mx[1.2.3.4]", "", "exim", "rate limited"},
		{"exim reject log", "2024-01-01 H=(helo) [1.2.3.4] F=<s@x> temporarily rejected RCPT <r@y>: greylisted", 0, "", StageRcpt, "helo[1.2.3.4]", HintDeferred, "exim", "greylisted"},
		{"exchange LED", "Reason: [{LED=450 4.7.1 : Recipient address rejected: Service is unavailable (try later)};{MSG=};{FQDN=czt.abc.com};{IP=1.1.1.1};{LRT=9/12/2023 4:46:17 AM}]", 450, "4.7.1", StageUnknown, "czt.abc.com[1.1.1.1]", "", "exchange", "Service is unavailable"},
		{"exchange queue", "451 4.4.0 DNS query failed. The error was: SMTPSEND.DNS.NonExistentDomain; nonexistent domain", 451, "4.4.0", StageUnknown, "", "", "reply", "DNS query failed"},
		{"exchange 4.4.317", "450 4.4.317 554 invalid DNS PTR resource record", 450, "4.4.317", StageUnknown, "", "", "reply", "invalid DNS PTR"},
		{"dsn diagnostic", "Diagnostic-Code: smtp; 450 4.2.0 <a@b>: Recipient address rejected: Greylisted", 450, "4.2.0", StageUnknown, "", "", "dsn", "Greylisted"},
		{"dsn status only", "Status: 4.4.7", 0, "4.4.7", StageUnknown, "", "", "dsn", ""},
		{"dsn block", "Action: delayed\nStatus: 4.7.1\nRemote-MTA: dns; mail.x.com\nDiagnostic-Code: smtp; 554 5.7.1 You are not allowed to connect.", 554, "4.7.1", StageUnknown, "mail.x.com", HintDeferred, "dsn", "not allowed"},
		{"dsn x-postfix", "Action: failed\nStatus: 4.0.0\nDiagnostic-Code: X-Postfix; delivery temporarily suspended: host mx1.comcast.net[96.114.157.80] refused to talk to me: 421 Throttled - try again later", 421, "4.0.0", StageConnect, "mx1.comcast.net[96.114.157.80]", HintFailed, "dsn", "Throttled"},
		{"client code", "0x800CCC79", 0, "", StageUnknown, "", "", "text", "0x800CCC79"},
		{"sendmail prose", "----- The following addresses had permanent fatal errors ----- <r@x>\n (reason: Deferred: 450 4.3.2 Service currently unavailable)", 450, "4.3.2", StageUnknown, "", HintFailed, "reply", "Service currently unavailable"},
		{"structured log", `smtp: DATA error {"check":"check.spf","smtp_code":550,"smtp_enchcode":"5.7.23"}`, 550, "5.7.23", StageUnknown, "", "", "reply", ""},
		{"empty", "", 0, "", StageUnknown, "", "", "text", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Extract(tt.in)
			if p.Code != tt.code || p.Enhanced != tt.enh || p.Stage != tt.stage || p.Remote != tt.remote || p.Hint != tt.hint || p.Format != tt.format {
				t.Errorf("Extract(%.60q)\n got  code=%d enh=%q stage=%s remote=%q hint=%q format=%s\n want code=%d enh=%q stage=%s remote=%q hint=%q format=%s",
					tt.in, p.Code, p.Enhanced, p.Stage, p.Remote, p.Hint, p.Format, tt.code, tt.enh, tt.stage, tt.remote, tt.hint, tt.format)
			}
			if tt.text != "" && !containsFold(p.Text, tt.text) {
				t.Errorf("Extract(%.60q).Text = %q, want it to contain %q", tt.in, p.Text, tt.text)
			}
		})
	}
}
