package explain

import (
	"strings"
	"testing"
)

const bounce = `From: MAILER-DAEMON@mx.example.org
Subject: Undelivered Mail Returned to Sender
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system at host mx.example.org.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
X-Postfix-Queue-ID: 38ABA400CC882
Arrival-Date: Thu, 6 Jul 2017 15:28:26 -0500 (CDT)

Final-Recipient: rfc822; alice@comcast.net
Original-Recipient: rfc822;alice@comcast.net
Action: delayed
Status: 4.0.0
Diagnostic-Code: X-Postfix; delivery temporarily suspended: host
    mx1.comcast.net[96.114.157.80] refused to talk to me: 421
    resimta-po-18v.sys.comcast.net 192.0.2.39 Throttled - try again later.
    Please see http://postmaster.comcast.net/smtp-error-codes.php#RL000002

Original-Recipient: rfc822;bob@example.net
Final-Recipient: rfc822; bob@example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: Recipient address
    rejected: User unknown in virtual mailbox table

--B--
`

func TestExplainDSN(t *testing.T) {
	e := mustExplainer(t)
	rs := e.ExplainDSN(bounce)
	if len(rs) != 2 {
		t.Fatalf("%d results, want 2: %+v", len(rs), rs)
	}
	want := []struct {
		rcpt, cause, actor, enh, stage string
		code                           int
		temporary                      bool
	}{
		{"alice@comcast.net", CauseRateLimit, ActorSender, "4.0.0", StageConnect, 421, true},
		{"bob@example.net", CauseRecipientUnknown, ActorSender, "5.1.1", StageUnknown, 550, false},
	}
	for i, w := range want {
		r := rs[i]
		if r.Recipient != w.rcpt || r.Cause != w.cause || r.Actor != w.actor || r.Enhanced != w.enh || r.Code != w.code || r.Temporary != w.temporary || r.Stage != w.stage {
			t.Errorf("block %d: got %s %s %s %s %s %d %v, want %+v", i, r.Recipient, r.Cause, r.Actor, r.Enhanced, r.Stage, r.Code, r.Temporary, w)
		}
		if !strings.Contains(r.Input, "Final-Recipient") {
			t.Errorf("block %d: input %q", i, r.Input)
		}
	}
	if rs[0].Provider != "comcast" {
		t.Errorf("provider %q", rs[0].Provider)
	}
}

func TestSplitDSNLoose(t *testing.T) {
	got := SplitDSN("Status: 4.4.7\nDiagnostic-Code: smtp; 450 4.4.7 expired\n")
	if len(got) != 1 || got[0].Parsed.Enhanced != "4.4.7" {
		t.Errorf("%+v", got)
	}
	if got := SplitDSN("Subject: hello\nStatus: RO\n\nbody\n"); len(got) != 0 {
		t.Errorf("mbox Status: header taken for a DSN: %+v", got)
	}
}
