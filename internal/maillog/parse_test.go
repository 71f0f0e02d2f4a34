package maillog

import (
	"bufio"
	"os"
	"strings"
	"testing"
	"time"
)

var ref = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func newParser() *Parser { return &Parser{Location: time.UTC, Reference: ref} }

type realLine struct {
	source, kind, line string
	no                 int
}

func loadRealLines(t testing.TB) []realLine {
	f, err := os.Open("testdata/real_lines.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []realLine
	src := ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	no := 0
	for sc.Scan() {
		no++
		l := sc.Text()
		if strings.HasPrefix(l, "# source: ") {
			src = l[len("# source: "):]
			continue
		}
		if l == "" || l[0] == '#' {
			continue
		}
		kind, line, ok := strings.Cut(l, "\t")
		if !ok {
			t.Fatalf("real_lines.txt:%d: no tab", no)
		}
		out = append(out, realLine{src, kind, line, no})
	}
	return out
}

// TestRealLines: every public line parses to the kind its file says.
func TestRealLines(t *testing.T) {
	for _, rl := range loadRealLines(t) {
		p := newParser()
		var ev Event
		p.Parse(rl.line, &ev)
		if ev.Kind.String() != rl.kind {
			t.Errorf("real_lines.txt:%d (%s): kind %s, want %s\n%s\n%+v", rl.no, rl.source, ev.Kind, rl.kind, rl.line, ev)
		}
	}
}

func parse1(t *testing.T, line string) Event {
	t.Helper()
	var ev Event
	newParser().Parse(line, &ev)
	return ev
}

func TestPostfixFields(t *testing.T) {
	cases := []struct {
		name string
		line string
		want Event
	}{{
		// source: https://github.com/mailcow/mailcow-dockerized/issues/6486
		name: "deferred 452 multi-line reply",
		line: "Apr 14 14:13:57 1230db0bd489 postfix/smtp[32918]: 11C9513477F0: to=<receiver@gmail.com>, relay=gmail-smtp-in.l.google.com[142.251.173.26]:25, delay=22698, delays=22698/0.01/0.6/0.07, dsn=4.2.2, status=deferred (host gmail-smtp-in.l.google.com[142.251.173.26] said: 452-4.2.2 The recipient's inbox is out of storage space. Please direct the 452-4.2.2 recipient to 452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp ffacd0b85a97d-39eaf435204si4553432f8f.601 - gsmtp (in reply to RCPT TO command))",
		want: Event{Kind: KindDelivery, MTA: MTAPostfix, Host: "1230db0bd489", Program: "postfix/smtp", Daemon: "smtp", Instance: "postfix", PID: 32918,
			QueueID: "11C9513477F0", To: "receiver@gmail.com", Relay: "gmail-smtp-in.l.google.com[142.251.173.26]:25",
			Delay: 22698, Delays: Delays{22698, 0.01, 0.6, 0.07}, HasDelays: true, DSN: "4.2.2", Status: "deferred", Code: 452,
			Reply: "host gmail-smtp-in.l.google.com[142.251.173.26] said: 452-4.2.2 The recipient's inbox is out of storage space. Please direct the 452-4.2.2 recipient to 452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp ffacd0b85a97d-39eaf435204si4553432f8f.601 - gsmtp (in reply to RCPT TO command)",
			Time:  time.Date(2026, 4, 14, 14, 13, 57, 0, time.UTC)},
	}, {
		// source: https://github.com/docker-mailserver/docker-mailserver/issues/374
		name: "orig_to",
		line: "Nov  3 18:06:25 mail postfix/smtp[1436]: 81571C2D: to=<root@mail.example.com>, orig_to=<root>, relay=none, delay=50784, delays=50754/0.01/30/0, dsn=4.4.1, status=deferred (connect to mail.example.com[192.0.2.123]:25: Connection timed out)",
		want: Event{Kind: KindDelivery, MTA: MTAPostfix, Host: "mail", Program: "postfix/smtp", Daemon: "smtp", Instance: "postfix", PID: 1436,
			QueueID: "81571C2D", To: "root@mail.example.com", OrigTo: "root", Relay: "none", Delay: 50784, Delays: Delays{50754, 0.01, 30, 0}, HasDelays: true,
			DSN: "4.4.1", Status: "deferred", Reply: "connect to mail.example.com[192.0.2.123]:25: Connection timed out",
			Time: time.Date(2026, 11, 3, 18, 6, 25, 0, time.UTC)},
	}, {
		// constructed from Postfix's log_adhoc.c format: quoted local part with '>' and ', ' inside,
		// conn_use=, a tls= field, and a reply with ", " and "=".
		name: "quoted local part, conn_use, tls, tricky reply",
		line: `2026-11-27T11:08:40.123456+01:00 mx1 postfix-out/smtp[77]: 4Fz9Qk1x2Vz9v: to=<"a>b, c"@example.com>, orig_to=<x@example.org>, relay=mx.example.com[192.0.2.1]:25, conn_use=3, delay=1.5, delays=0.1/0/0.4/1, tls=TLSv1.3, dsn=2.0.0, status=sent (250 2.0.0 Ok, id=abc, queued (as) x)`,
		want: Event{Kind: KindDelivery, MTA: MTAPostfix, Host: "mx1", Program: "postfix-out/smtp", Daemon: "smtp", Instance: "postfix-out", PID: 77,
			QueueID: "4Fz9Qk1x2Vz9v", To: `"a>b, c"@example.com`, OrigTo: "x@example.org", Relay: "mx.example.com[192.0.2.1]:25", ConnUse: 3,
			Delay: 1.5, Delays: Delays{0.1, 0, 0.4, 1}, HasDelays: true, TLS: "TLSv1.3", DSN: "2.0.0", Status: "sent", Code: 250,
			Reply: "250 2.0.0 Ok, id=abc, queued (as) x", Time: time.Date(2026, 11, 27, 10, 8, 40, 123456000, time.UTC)},
	}, {
		// source: https://github.com/modoboa/modoboa-installer/issues/56
		name: "postscreen NOQUEUE with comma separators",
		line: "Jul 13 13:25:21 myhost postfix/postscreen[21780]: NOQUEUE: reject: RCPT from [192.0.2.10]:32801: 450 4.3.2 Service currently unavailable; from=<someone@gmail.com>, to=<someone@myhost.com>, proto=ESMTP, helo=<mail-io0-f178.google.com>",
		want: Event{Kind: KindReject, MTA: MTAPostfix, Host: "myhost", Program: "postfix/postscreen", Daemon: "postscreen", Instance: "postfix", PID: 21780,
			Action: "reject", Stage: "RCPT", Client: "[192.0.2.10]", ClientIP: "192.0.2.10", Reply: "450 4.3.2 Service currently unavailable", Code: 450, DSN: "4.3.2",
			From: "someone@gmail.com", To: "someone@myhost.com", Proto: "ESMTP", Helo: "mail-io0-f178.google.com",
			Time: time.Date(2026, 7, 13, 13, 25, 21, 0, time.UTC)},
	}, {
		// source: https://github.com/spamhaus/spamassassin-dqs/issues/53 (reply text with "; " inside)
		name: "smtpd NOQUEUE with semicolons in reply",
		line: "Oct 31 01:28:43 mail postfix/smtpd[3468]: NOQUEUE: reject: RCPT from mail-lo2gbr01olkn0166.outbound.protection.outlook.com[104.47.21.166]: 554 5.7.1 Service unavailable; Client host [104.47.21.166] blocked using sbl.spamhaus.org; Error: open resolver; https://www.spamhaus.org/returnc/pub/172.69.79.93; from=<sender@example.com> to=<user@example.net> proto=ESMTP helo=<GBR01-LO2-obe.outbound.protection.outlook.com>",
		want: Event{Kind: KindReject, MTA: MTAPostfix, Host: "mail", Program: "postfix/smtpd", Daemon: "smtpd", Instance: "postfix", PID: 3468,
			Action: "reject", Stage: "RCPT", Client: "mail-lo2gbr01olkn0166.outbound.protection.outlook.com[104.47.21.166]", ClientIP: "104.47.21.166",
			Reply: "554 5.7.1 Service unavailable; Client host [104.47.21.166] blocked using sbl.spamhaus.org; Error: open resolver; https://www.spamhaus.org/returnc/pub/172.69.79.93",
			Code:  554, DSN: "5.7.1", From: "sender@example.com", To: "user@example.net", Proto: "ESMTP", Helo: "GBR01-LO2-obe.outbound.protection.outlook.com",
			Time: time.Date(2026, 10, 31, 1, 28, 43, 0, time.UTC)},
	}, {
		// source: https://github.com/vstakhov/rmilter/issues/88
		name: "cleanup milter-reject",
		line: "Feb 28 10:59:29 mx postfix/cleanup[46417]: 7F2DF64430: milter-reject: END-OF-MESSAGE from forward12h.cmail.yandex.net[87.250.230.154]: 4.7.1 Try again later; from=<user@example1.com> to=<rcpt@example.com> proto=ESMTP helo=<forward12h.cmail.yandex.net>",
		want: Event{Kind: KindReject, MTA: MTAPostfix, Host: "mx", Program: "postfix/cleanup", Daemon: "cleanup", Instance: "postfix", PID: 46417, QueueID: "7F2DF64430",
			Action: "milter-reject", Stage: "END-OF-MESSAGE", Client: "forward12h.cmail.yandex.net[87.250.230.154]", ClientIP: "87.250.230.154",
			Reply: "4.7.1 Try again later", DSN: "4.7.1", From: "user@example1.com", To: "rcpt@example.com", Proto: "ESMTP", Helo: "forward12h.cmail.yandex.net",
			Time: time.Date(2026, 2, 28, 10, 59, 29, 0, time.UTC)},
	}, {
		// Postfix cleanup header_checks REJECT (cleanup/cleanup_message.c format); RFC 5424 framing
		name: "cleanup header reject, RFC 5424",
		line: `<22>1 2026-11-27T11:08:40.5Z mx postfix/cleanup 4242 - - 3F1A2B4C5D: reject: header Subject: You won from mail.example.net[192.0.2.9]; from=<a@example.net> to=<b@example.com> proto=ESMTP helo=<mail.example.net>: 5.7.1 message content rejected`,
		want: Event{Kind: KindReject, MTA: MTAPostfix, Host: "mx", Program: "postfix/cleanup", Daemon: "cleanup", Instance: "postfix", PID: 4242, QueueID: "3F1A2B4C5D",
			Action: "reject", Stage: "header Subject: You won", Client: "mail.example.net[192.0.2.9]", ClientIP: "192.0.2.9",
			Reply: "5.7.1 message content rejected", DSN: "5.7.1", From: "a@example.net", To: "b@example.com", Proto: "ESMTP", Helo: "mail.example.net",
			Time: time.Date(2026, 11, 27, 11, 8, 40, 500000000, time.UTC)},
	}, {
		// smtpd with SASL, submission service (master.cf -o syslog_name=postfix/submission)
		name: "client with sasl, submission service",
		line: "Nov 27 11:08:40 mx postfix/submission/smtpd[123]: 4ABCD12345: client=laptop.example.net[198.51.100.7], sasl_method=PLAIN, sasl_username=alice@example.com",
		want: Event{Kind: KindClient, MTA: MTAPostfix, Host: "mx", Program: "postfix/submission/smtpd", Daemon: "smtpd", Instance: "postfix/submission", PID: 123,
			QueueID: "4ABCD12345", Client: "laptop.example.net[198.51.100.7]", ClientIP: "198.51.100.7", SASLMethod: "PLAIN", SASLUser: "alice@example.com",
			Time: time.Date(2026, 11, 27, 11, 8, 40, 0, time.UTC)},
	}, {
		name: "disconnect counters, journald short-iso",
		line: "2026-11-27T11:08:40+0100 mx postfix/smtpd[123]: disconnect from unknown[192.0.2.3] ehlo=1 mail=1 rcpt=0/1 data=0 commands=2/3",
		want: Event{Kind: KindDisconnect, MTA: MTAPostfix, Host: "mx", Program: "postfix/smtpd", Daemon: "smtpd", Instance: "postfix", PID: 123,
			Client: "unknown[192.0.2.3]", ClientIP: "192.0.2.3", Counters: "ehlo=1 mail=1 rcpt=0/1 data=0 commands=2/3",
			Time: time.Date(2026, 11, 27, 10, 8, 40, 0, time.UTC)},
	}, {
		name: "SASL failure",
		line: "Nov 27 11:08:40 mx postfix/smtpd[123]: warning: unknown[192.0.2.3]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
		want: Event{Kind: KindAuthFailed, MTA: MTAPostfix, Host: "mx", Program: "postfix/smtpd", Daemon: "smtpd", Instance: "postfix", PID: 123,
			Client: "unknown[192.0.2.3]", ClientIP: "192.0.2.3", SASLMethod: "LOGIN", Action: "warning",
			Text: "unknown[192.0.2.3]: SASL LOGIN authentication failed: UGFzc3dvcmQ6", Time: time.Date(2026, 11, 27, 11, 8, 40, 0, time.UTC)},
	}, {
		// source: https://github.com/supar/postlog-sa (TestSpamStatWithDefferedMail)
		name: "bounce notification",
		line: "Dec 28 13:39:28 mx postfix/bounce[19155]: C93CEB08A046: sender non-delivery notification: B1B894562003",
		want: Event{Kind: KindBounce, MTA: MTAPostfix, Host: "mx", Program: "postfix/bounce", Daemon: "bounce", Instance: "postfix", PID: 19155,
			QueueID: "C93CEB08A046", NewQueueID: "B1B894562003", BounceType: "sender non-delivery notification",
			Time: time.Date(2025, 12, 28, 13, 39, 28, 0, time.UTC)},
	}, {
		name: "pickup",
		line: "Nov 27 11:08:40 mx postfix/pickup[31710]: BA6A236F4E08: uid=1003 from=<www-data>",
		want: Event{Kind: KindPickup, MTA: MTAPostfix, Host: "mx", Program: "postfix/pickup", Daemon: "pickup", Instance: "postfix", PID: 31710,
			QueueID: "BA6A236F4E08", UID: 1003, From: "www-data", Time: time.Date(2026, 11, 27, 11, 8, 40, 0, time.UTC)},
	}, {
		name: "postsuper hold",
		line: "Nov 27 11:08:40 mx postfix/postsuper[999]: BA6A236F4E08: placed on hold",
		want: Event{Kind: KindHold, MTA: MTAPostfix, Host: "mx", Program: "postfix/postsuper", Daemon: "postsuper", Instance: "postfix", PID: 999,
			QueueID: "BA6A236F4E08", Time: time.Date(2026, 11, 27, 11, 8, 40, 0, time.UTC)},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := parse1(t, c.line)
			c.want.Line = c.line
			if !got.Time.Equal(c.want.Time) {
				t.Errorf("time %v, want %v", got.Time, c.want.Time)
			}
			got.Time, c.want.Time = time.Time{}, time.Time{}
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestEximFields(t *testing.T) {
	cases := []struct {
		name string
		line string
		want Event
	}{{
		// source: https://github.com/drlight17/mta-log-parser/issues/22
		name: "arrival, new id format, via syslog",
		line: `Feb 14 18:12:33 192.168.55.51 exim[46483]: 2025-02-14 18:12:33.470 [46483] 1tixMn-00000000C5j-1wRa <= root@domain.ru U=root Ci=46483 P=local S=362 M8S=0 RT=0.004s id*=E1tixMn-00000000C5j-1wRa@mail.domain.ru T="test" from <root@domain.ru> for test@domain.ru`,
		want: Event{Kind: KindQueued, MTA: MTAExim, Host: "192.168.55.51", Program: "exim", Daemon: "exim", PID: 46483, QueueID: "1tixMn-00000000C5j-1wRa",
			Flag: "<=", From: "root@domain.ru", Proto: "local", Size: 362, MessageID: "E1tixMn-00000000C5j-1wRa@mail.domain.ru",
			Time: time.Date(2025, 2, 14, 18, 12, 33, 470000000, time.UTC)},
	}, {
		// source: GPBExim test suite (see testdata/real_lines.txt)
		name: "defer with errno and SMTP error",
		line: "2012-02-13 14:39:22 1RookS-000Pg8-VO == udbbwscdnbegrmloghuf@london.com R=dnslookup T=remote_smtp defer (-44): SMTP error from remote mail server after RCPT TO:<udbbwscdnbegrmloghuf@london.com>: host mx0.gmx.com [74.208.5.90]: 450 4.3.2 Too many mails (mail bomb), try again in 1 hour(s) 25 minute(s) and see ( http://portal.gmx.net/serverrules ) {mx-us011}",
		want: Event{Kind: KindDelivery, MTA: MTAExim, Program: "exim", Daemon: "exim", QueueID: "1RookS-000Pg8-VO", Flag: "==", Status: "deferred",
			To: "udbbwscdnbegrmloghuf@london.com", Router: "dnslookup", Transport: "remote_smtp", Text: "defer (-44)",
			Reply: "SMTP error from remote mail server after RCPT TO:<udbbwscdnbegrmloghuf@london.com>: host mx0.gmx.com [74.208.5.90]: 450 4.3.2 Too many mails (mail bomb), try again in 1 hour(s) 25 minute(s) and see ( http://portal.gmx.net/serverrules ) {mx-us011}",
			Code:  450, DSN: "4.3.2", Time: time.Date(2012, 2, 13, 14, 39, 22, 0, time.UTC)},
	}, {
		name: "retry time not reached, log_timezone",
		line: "2026-11-27 11:08:40 +0100 1tXyz1-00000000C5j-1wRa == bob@example.org R=dnslookup T=remote_smtp defer (-53): retry time not reached for any host for 'example.org'",
		want: Event{Kind: KindDelivery, MTA: MTAExim, Program: "exim", Daemon: "exim", QueueID: "1tXyz1-00000000C5j-1wRa", Flag: "==", Status: "deferred",
			To: "bob@example.org", Router: "dnslookup", Transport: "remote_smtp", Text: "defer (-53)",
			Reply: "retry time not reached for any host for 'example.org'", Time: time.Date(2026, 11, 27, 10, 8, 40, 0, time.UTC)},
	}, {
		// source: https://pastebin.com/FbfKGUtT
		name: "failure with quoted DN before the colon",
		line: `2022-06-08 19:08:19 1nyzAH-000Asi-Tc ** user@gmail.com R=smarthost T=remote_smtp_smarthost H=smtp.gmail.com [173.194.76.109] X=TLS1.3:ECDHE_X25519__ECDSA_SECP256R1_SHA256__AES_256_GCM:256 CV=yes DN="CN=smtp.gmail.com": SMTP error from remote mail server after pipelined end of data: 530-5.7.0 Authentication Required.`,
		want: Event{Kind: KindDelivery, MTA: MTAExim, Program: "exim", Daemon: "exim", QueueID: "1nyzAH-000Asi-Tc", Flag: "**", Status: "bounced",
			To: "user@gmail.com", Router: "smarthost", Transport: "remote_smtp_smarthost", Relay: "smtp.gmail.com [173.194.76.109]",
			TLS:   "TLS1.3:ECDHE_X25519__ECDSA_SECP256R1_SHA256__AES_256_GCM:256",
			Reply: "SMTP error from remote mail server after pipelined end of data: 530-5.7.0 Authentication Required.", Code: 530, DSN: "5.7.0",
			Time: time.Date(2022, 6, 8, 19, 8, 19, 0, time.UTC)},
	}, {
		// source: https://github.com/mysociety/alaveteli/issues/624
		name: "delivery with C=",
		line: `2015-10-30 19:24:16 [17817] 111111-222222-SM => person@example.com F=<request-300000-123456@example.com> P=<request-300000-123456@example.com> R=dnslookup T=remote_smtp S=2297 H=cluster2.gsi.messagelabs.com [62.208.159.157]:25 X=TLS1.2:DHE_RSA_AES_128_CBC_SHA1:128 CV=no C="250 ok 1446233056 qp 26062" QT=1s DT=0s`,
		want: Event{Kind: KindDelivery, MTA: MTAExim, Program: "exim", Daemon: "exim", PID: 17817, QueueID: "111111-222222-SM", Flag: "=>", Status: "sent",
			To: "person@example.com", From: "request-300000-123456@example.com", Router: "dnslookup", Transport: "remote_smtp", Size: 2297,
			Relay: "cluster2.gsi.messagelabs.com [62.208.159.157]:25", TLS: "TLS1.2:DHE_RSA_AES_128_CBC_SHA1:128",
			Reply: "250 ok 1446233056 qp 26062", Code: 250, Time: time.Date(2015, 10, 30, 19, 24, 16, 0, time.UTC)},
	}, {
		// source: https://github.com/appwrite/docker-smtp/issues/9
		name: "rejected RCPT",
		line: "2021-05-07 10:00:00 H=(localhost) [172.22.0.1] F=<no-reply@saocloud.com> rejected RCPT <admin11@test.com>: relay not permitted",
		want: Event{Kind: KindReject, MTA: MTAExim, Program: "exim", Daemon: "exim", Action: "reject", Stage: "RCPT",
			Client: "(localhost) [172.22.0.1]", ClientIP: "172.22.0.1", From: "no-reply@saocloud.com", To: "admin11@test.com",
			Reply: "relay not permitted", Time: time.Date(2021, 5, 7, 10, 0, 0, 0, time.UTC)},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := parse1(t, c.line)
			c.want.Line = c.line
			if !got.Time.Equal(c.want.Time) {
				t.Errorf("time %v, want %v", got.Time, c.want.Time)
			}
			got.Time, c.want.Time = time.Time{}, time.Time{}
			if got != c.want {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

func TestYearInference(t *testing.T) {
	p := &Parser{Location: time.UTC, Reference: time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)}
	var ev Event
	want := []int{2026, 2026, 2027, 2027}
	for i, l := range []string{
		"Dec 30 23:59:59 mx postfix/qmgr[1]: ABCDEF12: removed",
		"Dec 31 23:59:59 mx postfix/qmgr[1]: ABCDEF12: removed",
		"Jan  1 00:00:01 mx postfix/qmgr[1]: ABCDEF12: removed",
		"Jan 01 00:00:02 mx postfix/qmgr[1]: ABCDEF12: removed", // postlogd's zero-padded day
	} {
		if !p.Parse(l, &ev) {
			t.Fatalf("%q unparsed", l)
		}
		if ev.Time.Year() != want[i] {
			t.Errorf("%q: year %d, want %d", l, ev.Time.Year(), want[i])
		}
	}
}

func TestJunkNeverPanics(t *testing.T) {
	p := newParser()
	var ev Event
	for _, l := range []string{
		"", "\x00\x01\x02", "Nov", "Nov 27 11:08:40", "Nov 27 11:08:40 host", "Nov 27 11:08:40 host postfix/smtp[1]:",
		"Nov 27 11:08:40 host postfix/smtp[1]: ABCDEF12: to=<a@b", "Nov 27 11:08:40 host postfix/smtp[1]: ABCDEF12: to=<a@b>, relay=x",
		"<13>1 2026-11-27T11:08:40Z", "<13>1 2026-11-27T11:08:40Z h a 1 - [x", "2026-11-27 11:08:40 1tXyz1-00000000C5j-1wRa",
		"2026-11-27 11:08:40 1tXyz1-00000000C5j-1wRa ** ", "2026-11-27 11:08:40 1tXyz1-00000000C5j-1wRa == a R=\"x",
		"Nov 27 11:08:40 host postfix/smtpd[1]: NOQUEUE: reject: RCPT from", "Nov 27 11:08:40 host postfix/smtpd[1]: NOQUEUE: reject: ; from=<",
		"Nov 27 11:08:40 host postfix/smtpd[1]: warning: x: SASL ",
	} {
		p.Parse(l, &ev)
	}
}
