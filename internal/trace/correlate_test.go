package trace

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/maillog"
)

// testClassifier stands in for explain: it must receive every
// non-successful attempt with its hint.
var testClassifier = ClassifierFunc(func(reply string, h Hint) Class {
	c := DefaultClassifier{}.Classify(reply, h)
	switch {
	case strings.Contains(reply, "reylist"):
		c.Cause = "greylisting"
	case strings.Contains(reply, "timed out"):
		c.Cause = "timeout"
	case strings.Contains(reply, "User unknown"):
		c.Cause = "recipient_unknown"
	}
	if h.Line == "" {
		c.Cause = "NO-LINE"
	}
	return c
})

func run(t *testing.T, opt Options, files ...string) ([]*Message, *Correlator) {
	t.Helper()
	var srcs []maillog.Source
	for _, f := range files {
		srcs = append(srcs, maillog.FileSource(filepath.Join("testdata", f)))
	}
	p := &maillog.Parser{Location: time.UTC, Reference: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
	r := maillog.NewReader(p, srcs...)
	var out []*Message
	opt.Emit = func(m *Message) { out = append(out, m) }
	if opt.Classifier == nil {
		opt.Classifier = testClassifier
	}
	c := New(opt)
	for {
		ev, ok := r.Next()
		if !ok {
			break
		}
		c.Add(ev)
	}
	c.Flush()
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return out, c
}

func summary(ms []*Message) string {
	var b strings.Builder
	for _, m := range ms {
		id := m.QueueID
		if len(m.QueueIDs) > 0 {
			id = strings.Join(m.QueueIDs, "+")
		}
		fmt.Fprintf(&b, "%s %s from=<%s> %s", m.Host, id, m.From, m.Outcome)
		for _, kv := range [][2]string{{"mid", m.MessageID}, {"client", m.Client}, {"sasl", m.SASLUsername}, {"bounce", m.BounceQueueID}, {"bounce_of", m.BounceOf}, {"reject", m.RejectAction + " " + m.RejectStage}} {
			if strings.TrimSpace(kv[1]) != "" {
				fmt.Fprintf(&b, " %s=%s", kv[0], kv[1])
			}
		}
		if m.Incomplete {
			b.WriteString(" incomplete")
		}
		b.WriteString("\n")
		for _, r := range m.Recipients {
			fmt.Fprintf(&b, "  <%s>", r.Address)
			if r.OrigTo != "" {
				fmt.Fprintf(&b, " orig=<%s>", r.OrigTo)
			}
			fmt.Fprintf(&b, " %s\n", r.Outcome)
			for _, a := range r.Attempts {
				fmt.Fprintf(&b, "    %s %s %s dsn=%s relay=%s cause=%s temp=%v", a.Time.Format("01-02T15:04:05"), a.QueueID, a.Status, a.DSN, a.Relay, a.Cause, a.Temporary)
				if a.TLS != "" {
					fmt.Fprintf(&b, " tls=%s", a.TLS)
				}
				if a.ConnUse != 0 {
					fmt.Fprintf(&b, " conn_use=%d", a.ConnUse)
				}
				if a.Delays != nil {
					fmt.Fprintf(&b, " delay=%g delays=%g/%g/%g/%g", a.Delay, a.Delays.BeforeQmgr, a.Delays.InQmgr, a.Delays.Connection, a.Delays.Transmission)
				}
				reply := a.Reply
				if len(reply) > 60 {
					reply = reply[:60] + "..."
				}
				fmt.Fprintf(&b, " %q\n", reply)
			}
		}
	}
	return b.String()
}

func check(t *testing.T, got []*Message, want string) {
	t.Helper()
	g := summary(got)
	want = strings.TrimLeft(want, "\n")
	if g != want {
		t.Errorf("got:\n%s\nwant:\n%s", g, want)
	}
}

func TestGreylistedThenSent(t *testing.T) {
	ms, _ := run(t, Options{}, "greylist.log")
	check(t, ms, `
out 4F1A2B3C4D from=<alice@example.com> delivered mid=20261127110001.4F1A2B3C4D@out.example.com client=laptop.example.net[198.51.100.7] sasl=alice@example.com
  <user@recipient.com> delivered
    11-27T11:00:02  deferred dsn=4.2.0 relay=mx.recipient.com[192.0.2.25]:25 cause=greylisting temp=true tls=Trusted delay=1.2 delays=0.5/0.01/0.6/0.09 "host mx.recipient.com[192.0.2.25] said: 450 4.2.0 <user@reci..."
    11-27T11:05:02  sent dsn=2.0.0 relay=mx.recipient.com[192.0.2.25]:25 cause= temp=false tls=Trusted conn_use=2 delay=301 delays=300/0.01/0.5/0.4 "250 2.0.0 Ok: queued as 4dXyZ1abcdz1"
`)
	if ms[0].Size != 2048 || ms[0].Nrcpt != 1 || !ms[0].FirstSeen.Equal(time.Date(2026, 11, 27, 11, 0, 1, 0, time.UTC)) || !ms[0].LastSeen.Equal(time.Date(2026, 11, 27, 11, 5, 2, 0, time.UTC)) {
		t.Errorf("%+v", ms[0])
	}
}

func TestExpiredWithNotification(t *testing.T) {
	ms, _ := run(t, Options{}, "expired.log")
	check(t, ms, `
mx C93CEB08A046 from=<ina@somedomain.com> expired bounce=B1B894562003
  <order@arobor.ru> expired
    12-27T02:39:24  deferred dsn=4.4.1 relay=none cause=timeout temp=true delay=307136 delays=307106/0.02/30/0 "connect to arobor.ru[178.210.73.19]:25: Connection timed out"
    12-27T03:49:24  deferred dsn=4.4.1 relay=none cause=timeout temp=true delay=307136 delays=307106/0.02/30/0 "connect to arobor.ru[178.210.73.19]:25: Connection timed out"
    12-28T13:39:28  expired dsn=4.4.1 relay=none cause=timeout temp=false "connect to arobor.ru[178.210.73.19]:25: Connection timed out"
mx B1B894562003 from=<> delivered mid=20151228103928.B1B894562003@mx.somedomain.com bounce_of=C93CEB08A046
  <ina@somedomain.com> delivered
    12-28T13:39:29  sent dsn=2.0.0 relay=local cause= temp=false delay=0.03 delays=0.01/0/0/0.02 "delivered to mailbox"
`)
}

func TestBouncedWithNotification(t *testing.T) {
	ms, _ := run(t, Options{}, "bounced.log")
	check(t, ms, `
out 5A6B7C8D9E from=<www-data@out.example.com> bounced mid=20261127120000.5A6B7C8D9E@out.example.com bounce=6B7C8D9E0F
  <nobody@example.org> bounced
    11-27T12:00:01  bounced dsn=5.1.1 relay=mx.example.org[192.0.2.30]:25 cause=recipient_unknown temp=false delay=1 delays=0.1/0/0.5/0.4 "host mx.example.org[192.0.2.30] said: 550 5.1.1 <nobody@exam..."
  <friend@example.net> delivered
    11-27T12:00:01  sent dsn=2.0.0 relay=mx.example.net[192.0.2.31]:25 cause= temp=false delay=1.1 delays=0.1/0/0.6/0.4 "250 2.0.0 OK 1732708801 abc"
out 6B7C8D9E0F from=<> delivered mid=20261127120001.6B7C8D9E0F@out.example.com bounce_of=5A6B7C8D9E
  <www-data@out.example.com> delivered
    11-27T12:00:01  sent dsn=2.0.0 relay=local cause= temp=false delay=0.02 delays=0.01/0/0/0.01 "delivered to mailbox"
`)
}

// TestReinjection: the amavis hop and the final delivery are one message
// with both queue ids, each attempt saying which id made it. tik@ has only
// the hop (amavis quarantined or dropped it): delivered to the filter.
func TestReinjection(t *testing.T) {
	ms, c := run(t, Options{}, "amavis.log")
	check(t, ms, `
mx 5247C4562029+F3C59456202A from=<simonova@yahoo.com> delivered mid=659691365ACB4CBBA5AD2A0C2E2639E2@ip-1-7-1-1.bb.net.net client=unknown[1.7.1.1]
  <lik@some.net> delivered
    12-04T10:33:25 5247C4562029 sent dsn=2.0.0 relay=127.0.0.1[127.0.0.1]:10024 cause= temp=false delay=1.3 delays=0.67/0/0/0.66 "250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: qu..."
    12-04T10:33:25 F3C59456202A sent dsn=2.0.0 relay=dovecot cause= temp=false delay=0.09 delays=0.01/0/0/0.08 "delivered via dovecot service"
  <ochki@some.net> delivered
    12-04T10:33:25 5247C4562029 sent dsn=2.0.0 relay=127.0.0.1[127.0.0.1]:10024 cause= temp=false delay=1.3 delays=0.67/0/0/0.66 "250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: qu..."
    12-04T10:33:25 F3C59456202A sent dsn=2.0.0 relay=dovecot cause= temp=false delay=0.04 delays=0.01/0.01/0/0.02 "delivered via dovecot service"
  <tik@some.net> delivered
    12-04T10:33:25 5247C4562029 sent dsn=2.0.0 relay=127.0.0.1[127.0.0.1]:10024 cause= temp=false delay=1.3 delays=0.67/0/0/0.66 "250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: qu..."
`)
	if st := c.Stats(); st.Linked != 1 || st.Messages != 1 || st.Open != 0 {
		t.Errorf("stats %+v", st)
	}
}

// TestReuseRejectsHosts: queue id reuse on mx1 (the first "removed" was
// lost), the same id on another host kept apart, a NOQUEUE reject and a
// cleanup milter-reject as messages, and the other host's message still
// open at the end.
func TestReuseRejectsHosts(t *testing.T) {
	ms, c := run(t, Options{}, "reuse.log")
	check(t, ms, `
mx1 ABCDEF0123 from=<a@example.net> delivered mid=first@example.net client=a.example.net[192.0.2.40] incomplete
  <u1@mx1.example.com> delivered
    11-27T13:00:01  sent dsn=2.0.0 relay=local cause= temp=false delay=0.1 delays=0.05/0/0/0.05 "delivered to maildir"
mx1 ABCDEF0123 from=<c@example.net> delivered mid=second@example.net client=c.example.net[192.0.2.42]
  <u2@mx1.example.com> delivered
    11-27T13:00:07  sent dsn=2.0.0 relay=local cause= temp=false delay=0.1 delays=0.05/0/0/0.05 "delivered to maildir"
mx1  from=<bounce@email.mydomain.com> rejected client=a27-190.smtp-out.us-west-2.amazonses.com[54.240.27.190] reject=reject RCPT
  <email@mx1.example.com> rejected
    11-27T13:00:08  reject dsn=4.1.8 relay= cause=other temp=true "450 4.1.8 <bounce@email.mydomain.com>: Sender address reject..."
mx1 7F2DF64430 from=<user@example1.com> rejected client=forward12h.cmail.yandex.net[87.250.230.154] reject=milter-reject END-OF-MESSAGE
  <rcpt@example.com> rejected
    11-27T13:00:10  reject dsn=4.7.1 relay= cause=other temp=true "4.7.1 Try again later"
mx2 ABCDEF0123 from=<> unknown mid=other-host@example.net client=b.example.net[192.0.2.41] incomplete
`)
	if st := c.Stats(); st.Reused != 1 || st.Rejects != 1 || st.Messages != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestExim(t *testing.T) {
	ms, _ := run(t, Options{}, "exim.log")
	check(t, ms, `
 1tXyzA-00000000C5j-1wRa from=<alice@example.com> delivered mid=20261127110000.abc@example.com client=laptop.example.net (laptop) [198.51.100.7]:51234 sasl=alice
  <user@recipient.com> delivered
    11-27T11:00:01  deferred dsn=4.7.1 relay=mx.recipient.com [192.0.2.25] cause=greylisting temp=true "SMTP error from remote mail server after RCPT TO:<user@recip..."
    11-27T11:06:01  sent dsn=2.0.0 relay=mx.recipient.com [192.0.2.25] cause= temp=false tls=TLS1.3:TLS_AES_256_GCM_SHA384:256 "250 2.0.0 Ok: queued as 4dXyZ1abcdz1"
 1tXyzB-00000000D6k-2xSb from=<bob@example.com> bounced bounce=1tXyzC-00000000E7l-3yTc
  <nobody@example.org> bounced
    11-27T12:00:01  bounced dsn=5.1.1 relay=mx.example.org [192.0.2.30] cause=recipient_unknown temp=false "SMTP error from remote mail server after RCPT TO:<nobody@exa..."
 1tXyzC-00000000E7l-3yTc from=<> delivered bounce_of=1tXyzB-00000000D6k-2xSb
  <bob> orig=<bob@example.com> delivered
    11-27T12:00:02  sent dsn= relay= cause= temp=false ""
  from=<spam@example.biz> rejected client=(helo.example) [203.0.113.5] reject=defer RCPT
  <x@example.com> rejected
    11-27T12:00:03  reject dsn= relay= cause=greylisting temp=true "greylisted"
`)
}

// TestRotationCarriesState: a message split over two files (rotation in
// the middle) is one message.
func TestRotationCarriesState(t *testing.T) {
	dir := t.TempDir()
	data, _ := os.ReadFile("testdata/greylist.log")
	lines := strings.SplitAfter(string(data), "\n")
	os.WriteFile(filepath.Join(dir, "mail.log.1"), []byte(strings.Join(lines[:7], "")), 0o644)
	os.WriteFile(filepath.Join(dir, "mail.log"), []byte(strings.Join(lines[7:], "")), 0o644)
	r := maillog.NewReader(&maillog.Parser{Location: time.UTC}, maillog.Files(filepath.Join(dir, "mail.log"), filepath.Join(dir, "mail.log.1"))...)
	var out []*Message
	c := New(Options{Emit: func(m *Message) { out = append(out, m) }})
	for ev, ok := r.Next(); ok; ev, ok = r.Next() {
		c.Add(ev)
	}
	c.Flush()
	if len(out) != 1 || out[0].Outcome != OutcomeDelivered || len(out[0].Recipients[0].Attempts) != 2 || out[0].Incomplete {
		t.Fatalf("%s", summary(out))
	}
}

// TestOpenCapEvicts: a log that never closes its messages keeps at most
// MaxOpen open; the oldest go first and are counted.
func TestOpenCapEvicts(t *testing.T) {
	var out []*Message
	c := New(Options{MaxOpen: 3, Emit: func(m *Message) { out = append(out, m) }})
	for i := 0; i < 10; i++ {
		ev := &maillog.Event{Kind: maillog.KindQueued, MTA: maillog.MTAPostfix, Host: "h", QueueID: fmt.Sprintf("ABCDEF%04d", i), From: "a@b", Time: time.Unix(int64(i), 0)}
		c.Add(ev)
		if st := c.Stats(); st.Open > 3 {
			t.Fatalf("open %d", st.Open)
		}
	}
	st := c.Stats()
	if st.Evicted != 7 || len(out) != 7 || out[0].QueueID != "ABCDEF0000" || !out[0].Evicted {
		t.Fatalf("stats %+v first %+v", st, out[0])
	}
	c.Flush()
	if len(out) != 10 || out[9].Outcome != OutcomeUnknown || !out[9].Incomplete {
		t.Fatalf("%s", summary(out))
	}
}

func TestDefaultClassifier(t *testing.T) {
	for _, c := range []struct {
		h    Hint
		temp bool
	}{
		{Hint{Status: "deferred"}, true}, {Hint{Status: "bounced", DSN: "4.4.7"}, false}, {Hint{Status: "expired"}, false},
		{Hint{Status: "reject", Code: 450}, true}, {Hint{Status: "reject", Code: 554}, false}, {Hint{Status: "reject", DSN: "4.7.1"}, true},
		{Hint{Status: "reject", Action: "defer"}, true}, {Hint{Status: "reject", Action: "reject"}, false},
	} {
		got := DefaultClassifier{}.Classify("", c.h)
		if got.Cause != "other" || got.Temporary != c.temp {
			t.Errorf("%+v: %+v", c.h, got)
		}
	}
}

func TestJSONShape(t *testing.T) {
	ms, _ := run(t, Options{}, "greylist.log")
	b, err := json.Marshal(ms[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	json.Unmarshal(b, &m)
	for _, k := range []string{"queue_id", "message_id", "from", "client", "sasl_username", "size", "recipients", "first_seen", "last_seen", "outcome", "host"} {
		if _, ok := m[k]; !ok {
			t.Errorf("missing %q in %s", k, b)
		}
	}
	a := m["recipients"].([]any)[0].(map[string]any)["attempts"].([]any)[0].(map[string]any)
	for _, k := range []string{"time", "relay", "dsn", "status", "reply", "cause", "temporary", "delay", "delays"} {
		if _, ok := a[k]; !ok {
			t.Errorf("attempt missing %q in %s", k, b)
		}
	}
}
