package explain

import "testing"

// TestExtractTune5 covers the input forms added after the tune5 set was
// scored: codes outside RFC 5321's second-digit range when an enhanced code
// of the same class follows, sendmail's "stat=Deferred: 451" after dsn=,
// the host line of an Exim bounce, DSN fields after a Postfix bounce line,
// "key: value" numbers, transcripts and client stack frames.
func TestExtractTune5(t *testing.T) {
	tests := []struct {
		name, in string
		code     int
		enh      string
		stage    string
		remote   string
		hint     string
	}{
		{"5x7 with enhanced", "571 5.7.1 Delivery not authorized", 571, "5.7.1", StageUnknown, "", ""},
		{"4x7 with enhanced", "471 4.7.1 <a@b.example>: try later", 471, "4.7.1", StageUnknown, "", ""},
		{"5x7 alone is no code", "Error 577 occurred", 0, "", StageUnknown, "", ""},
		{"5x7 class mismatch", "571 4.7.1 x", 0, "4.7.1", StageUnknown, "", ""},
		{"sendmail deferred basic", "q0F5: to=<a@b.example>, relay=mx.b.example. [192.0.2.1], dsn=4.3.0, stat=Deferred: 451 Try later", 451, "4.3.0", StageUnknown, "", HintDeferred},
		{"exim bounce host", "SMTP error from remote mail server after RCPT TO:<a@b.example>:\n    host mx2.b.example [192.0.2.3]: 550 No such user", 550, "", StageRcpt, "mx2.b.example[192.0.2.3]", ""},
		{"postfix bounce with DSN fields", "<a@b.example>: host mx.b.example[192.0.2.2] refused to talk to me: 450 4.7.1 go away\n\nAction: failed\nStatus: 4.7.1", 450, "4.7.1", StageConnect, "mx.b.example[192.0.2.2]", HintFailed},
		{"postfix bounce status only", "<a@b.example>: host mx.b.example[192.0.2.2] refused to talk to me: 554 mx.b.example\n\nAction: failed\nStatus: 4.0.0", 554, "4.0.0", StageConnect, "mx.b.example[192.0.2.2]", HintFailed},
		{"key: value number", "deferral: to: a@b.example time: 431 status: Remote side closed connection during MAIL FROM", 0, "", StageMail, "", ""},
		{"client transcript", "--> RCPT TO:<a@b.example>\n<-- 451 Internal resource is temporarily unavailable", 451, "", StageRcpt, "", ""},
		{"sendmail transcript", ">>> MAIL From:<s@x.example>\n<<< 550 Access denied", 550, "", StageMail, "", ""},
		{".NET frame", "SmtpException: Mailbox unavailable. The server response was: 5.7.1 nope\n   at System.Net.Mail.RecipientCommand.CheckResponse(SmtpStatusCode statusCode)", 0, "5.7.1", StageRcpt, "", ""},
		{"MailKit frame", "SmtpCommandException: 4.4.1 Connection timed out\n   at MailKit.Net.Smtp.SmtpClient.ProcessMailFromResponse(SmtpResponse response)", 0, "4.4.1", StageMail, "", ""},
		{"sendmail ruleset", "ruleset=check_rcpt, arg1=<a@b.example>, relay=x [192.0.2.4], reject=550 5.7.1 <a@b.example>... Relaying denied", 550, "5.7.1", StageRcpt, "", ""},
		{"qmail connect", "delivery 7: deferral: Sorry,_I_wasn't_able_to_establish_an_SMTP_connection._(#4.4.1)/", 0, "4.4.1", StageConnect, "", HintDeferred},
		{"bounce prose failed", "Could not deliver message to the following recipient(s):\nFailed Recipient: a@b.example\nReason: Remote host said: 450 try later", 450, "", StageUnknown, "", HintFailed},
		{"delay warning stays deferred", "Message could not be delivered for 4 hours\nMessage will be retried for 5 days\n450 4.7.1 try later", 450, "4.7.1", StageUnknown, "", HintDeferred},
		{"opensmtpd tempfail", "delivery: TempFail for 0123abcd: from=<a@b.example>, to=<c@d.example>, method=mbox, stat=Error (terminated; signal 9)", 0, "", StageUnknown, "", HintDeferred},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Extract(tt.in)
			if p.Code != tt.code || p.Enhanced != tt.enh || p.Stage != tt.stage || p.Remote != tt.remote || p.Hint != tt.hint {
				t.Errorf("Extract(%.60q)\n got  code=%d enh=%q stage=%s remote=%q hint=%q\n want code=%d enh=%q stage=%s remote=%q hint=%q",
					tt.in, p.Code, p.Enhanced, p.Stage, p.Remote, p.Hint, tt.code, tt.enh, tt.stage, tt.remote, tt.hint)
			}
		})
	}
}

// TestFamiliesTune5 checks the wording families added after the tune5 set
// was scored, with variants that are in no labelled set.
func TestFamiliesTune5(t *testing.T) {
	e := mustExplainer(t)
	cases := []struct {
		in, cause, actor, provider string
		temporary                  bool
	}{
		{"450 Too many connections from your IP address, slow down", "rate_limit", "sender", "", true},
		{"421 Too frequent connects from 192.0.2.9, try later", "rate_limit", "sender", "", true},
		{"451 The server has reached its limit for processing requests from your host", "rate_limit", "sender", "", true},
		{"429 Too Many Requests. SMTP code: 451", "rate_limit", "sender", "", true},
		{"553 5.7.1 <a@b.example>: Sender address rejected: not owned by auth user b@b.example", "auth_required", "sender", "", false},
		{"550 5.7.1 Unconfigured sending domain <x.example>", "sender_unverified", "sender", "", false},
		{"450 4.1.8 <a@x.example>: From: domain must resolve", "sender_domain_dns", "sender", "", true},
		{"554 5.6.0 Stray linefeeds in the message body", "content_policy", "sender", "", false},
		{"550 5.7.1 Your sender domain is not allowed for sender IP 192.0.2.5", "spf_dmarc_policy", "sender", "", false},
		{"451 4.4.3 SPF lookup failure, try again", "dns_lookup_failure", "both", "", true},
		{"450 4.7.321 Certificate validation failed for mx.b.example", "tls_required", "both", "microsoft", true},
		{"450 4.4.312 DNS query failed", "dns_lookup_failure", "both", "microsoft", true},
		{"451 4.3.0 <a@b.example>: alias map lookup problem", "remote_relay_or_app_failure", "receiver", "", true},
		{"550 5.1.1 <a@b.example>: Recipient address rejected: undeliverable address: host mx[192.0.2.6] said: 550 5.1.1 unknown user (in reply to RCPT TO command)", "recipient_unknown", "sender", "", false},
		{"550 Recipient <a@b.example> is unknown", "recipient_unknown", "sender", "", false},
		{"550 Diese Adresse existiert nicht", "recipient_unknown", "sender", "", false},
		{"552 The domain size limit has been exceeded", "mailbox_full", "receiver", "", false},
		{"2015-09-07 10:34:38 [4437] H=(x.example) [192.0.2.8]:54937 sender verify defer for <a@x.example>: host lookup did not complete", "sender_domain_dns", "sender", "", true},
		{"a@b.example: Envelope expired", "timeout", "both", "", false},
		{"554 mx1.me.com ESMTP not accepting connections", "blocklist_reputation", "sender", "apple", false},
		{"Jun 16 11:03:43 h sm-mta[1]: q0F: to=<a@b.example>, ctladdr=<u@localhost.localdomain> (1000/1000), relay=mx.b.example., dsn=4.0.0, stat=Deferred: Connection refused by mx.b.example.", "timeout", "both", "", true},
	}
	for _, c := range cases {
		r := e.Explain(c.in)
		if r.Cause != c.cause || r.Actor != c.actor || r.Provider != c.provider || r.Temporary != c.temporary {
			t.Errorf("%q:\n got  %s/%s/%q/%v (rule %s)\n want %s/%s/%q/%v", c.in, r.Cause, r.Actor, r.Provider, r.Temporary, r.Rule, c.cause, c.actor, c.provider, c.temporary)
		}
	}
}
