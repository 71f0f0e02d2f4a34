package explain

import "testing"

// TestFamilies checks wording families (not single strings) added after the
// tune2 set was studied: variants that appear in no labelled set.
func TestFamilies(t *testing.T) {
	e := mustExplainer(t)
	cases := []struct {
		in, cause string
		code      int
		enh       string
		stage     string
	}{
		{"450 4.7.1 <a@b.example>: Recipient address rejected: Delayed by sqlgrey", "greylisting", 450, "4.7.1", ""},
		{"451 4.7.1 Greylisted by policyd, try again in 300 seconds", "greylisting", 451, "4.7.1", ""},
		{"550 5.7.1 192.0.2.7 is not allowed to send mail on behalf of example.org", "spf_dmarc_policy", 550, "5.7.1", ""},
		{"554 5.7.1 Message rejected: URI listed in SURBL", "blocklist_reputation", 554, "5.7.1", ""},
		{"550 Your IP is on our deny list", "blocklist_reputation", 550, "", ""},
		{"452 4.2.2 Inbox full", "mailbox_full", 452, "4.2.2", ""},
		{"552 Postfach ist voll", "mailbox_full", 552, "", ""},
		{"550 Recipient not in the route list", "recipient_unknown", 550, "", ""},
		{"550 5.7.1 Message scored as spam (spam score 12.3 > 5)", "content_policy", 550, "5.7.1", ""},
		{"451 4.3.0 mail system configuration error", "remote_relay_or_app_failure", 451, "4.3.0", ""},
		{"421 4.7.0 mx.example Error: too many errors", "other", 421, "4.7.0", ""},
		{"You have exceeded your outgoing quota of 250 messages. SMTP code: 550", "rate_limit", 550, "", ""},
		{"Expected response code(s) [250, 251] but got response [550 5.1.1 User unknown]", "recipient_unknown", 550, "5.1.1", ""},
		{"Expected response code 250 but got code \"451\", with message \"451 4.3.0 Temporary local problem\"", "remote_relay_or_app_failure", 451, "4.3.0", ""},
		{"<a@b.example>: host mx.b.example[192.0.2.1] said: 450\n4.2.1 The user you are trying to contact is receiving mail too quickly", "rate_limit", 450, "4.2.1", ""},
		{"Error: bad response on command 'MAIL': 5.7.1 Sender rejected", "", 0, "5.7.1", StageMail},
		{"smtp-in: Failed command on session 1: \"MAIL FROM:<a@b.example>\" => 553 Sender rejected", "", 553, "", StageMail},
		{"host 'mx.example' rejected command 'RCPT' with code 550", "", 550, "", StageRcpt},
	}
	for _, c := range cases {
		r := e.Explain(c.in)
		if c.cause != "" && r.Cause != c.cause {
			t.Errorf("%q: cause %s, want %s", c.in, r.Cause, c.cause)
		}
		if r.Code != c.code || r.Enhanced != c.enh {
			t.Errorf("%q: code %d %q, want %d %q", c.in, r.Code, r.Enhanced, c.code, c.enh)
		}
		if c.stage != "" && r.Stage != c.stage {
			t.Errorf("%q: stage %s, want %s", c.in, r.Stage, c.stage)
		}
	}
}
