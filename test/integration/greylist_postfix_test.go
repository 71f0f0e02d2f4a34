package integration

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/testutil/postfixtest"
)

var greylistedRe = regexp.MustCompile(`450 4\.2\.0 <([^>]+)>: Recipient address rejected: Greylisted, retry after (\d+) seconds`)

// send runs one SMTP transaction with swaks and returns its output.
func send(t *testing.T, pf *postfixtest.Instance, from, to, subject string) string {
	t.Helper()
	out, _ := pf.Swaks(t, "--from", from, "--to", to, "--helo", "mail.sender.example",
		"--header", "Subject: "+subject, "--body", "hello from "+from)
	return out
}

// greylistedFor returns the N of "retry after N seconds", or -1.
func greylistedFor(out string) int {
	m := greylistedRe.FindStringSubmatch(out)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[2])
	return n
}

func accepted(out string) bool {
	return regexp.MustCompile(`(?m)^<-\s+250 2\.0\.0 Ok: queued`).MatchString(out)
}

// TestGreylistWithPostfix is the postgrey replacement story, end to end:
// real Postfix asks the real tempfail binary; swaks is the sending MTA.
func TestGreylistWithPostfix(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test with real Postfix: skipped in -short mode")
	}
	// 4 s leaves room for a slow, loaded CI machine between the first
	// attempt and the early retry (swaks is a Perl program).
	const delay = 4
	srv := startServer(t, `
[greylist]
delay = "4s"
retry_window = "1h"
auto_allowlist = 2
auto_allowlist_interval = "1s"
`)
	pf := postfixtest.Start(t, postfixtest.Options{PolicyAddr: srv.Addr})

	// 1. First attempt: deferred with the full delay, as Postfix words it.
	start := time.Now()
	out := send(t, pf, "alice@sender.example", "bob@example.net", "first")
	if n := greylistedFor(out); n != delay {
		t.Fatalf("first attempt: want 450 4.2.0 Greylisted, retry after %d seconds; swaks said:\n%s", delay, out)
	}
	pf.WaitLog(t, regexp.MustCompile(`NOQUEUE: reject: RCPT from \S+: 450 4\.2\.0 <bob@example\.net>: Recipient address rejected: Greylisted, retry after 4 seconds`), 5*time.Second)

	// 2. An early retry is told the shorter remaining time.
	time.Sleep(1100 * time.Millisecond)
	out = send(t, pf, "alice@sender.example", "bob@example.net", "early")
	if n := greylistedFor(out); n < 1 || n >= delay {
		t.Fatalf("early retry: want a remaining time below %d; swaks said:\n%s", delay, out)
	}

	// 3. After the delay the retry is accepted and carries X-Greylist.
	time.Sleep(time.Until(start.Add(delay*time.Second + 200*time.Millisecond)))
	out = send(t, pf, "alice@sender.example", "bob@example.net", "retry")
	if !accepted(out) {
		t.Fatalf("retry after the delay was not accepted:\n%s", out)
	}
	msgs := pf.WaitMessages(t, 1, 10*time.Second)
	xg := msgs[0].Header.Get("X-Greylist")
	if !regexp.MustCompile(`^delayed \d+ seconds by tempfail$`).MatchString(xg) {
		t.Fatalf("delivered copy lacks a proper X-Greylist header, got %q:\n%s", xg, msgs[0].Raw)
	}
	if d, _ := strconv.Atoi(strings.Fields(xg)[1]); d < delay {
		t.Fatalf("X-Greylist says %d seconds, but the delay was %d", d, delay)
	}

	// 4. Second pass from the same network (another triplet), one counting
	// interval later: the network reaches auto_allowlist = 2.
	time.Sleep(1100 * time.Millisecond)
	t2 := time.Now()
	if n := greylistedFor(send(t, pf, "alice@sender.example", "carol@example.net", "second")); n != delay {
		t.Fatalf("second triplet was not greylisted")
	}
	time.Sleep(time.Until(t2.Add(delay*time.Second + 200*time.Millisecond)))
	if out := send(t, pf, "alice@sender.example", "carol@example.net", "second retry"); !accepted(out) {
		t.Fatalf("second retry not accepted:\n%s", out)
	}
	pf.WaitMessages(t, 2, 10*time.Second)

	// 5. Now a brand-new triplet from that network is not delayed at all.
	out = send(t, pf, "dave@other.example", "erin@example.net", "allowlisted")
	if !accepted(out) {
		t.Fatalf("message from an auto-allowlisted network was delayed:\n%s", out)
	}
	msgs = pf.WaitMessages(t, 3, 10*time.Second)
	for _, m := range msgs {
		if m.Header.Get("Subject") == "allowlisted" && m.Header.Get("X-Greylist") != "" {
			t.Fatalf("undelayed message carries X-Greylist: %q", m.Header.Get("X-Greylist"))
		}
	}
	srv.waitLog(t, regexp.MustCompile(`check=greylist reason=auto_allowlist`), 5*time.Second)

	// The decision log carries what an admin needs to find a message.
	line := srv.waitLog(t, regexp.MustCompile(`msg=decision state=RCPT .*recipient=bob@example.net check=greylist reason=new_triplet action="DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 4 seconds"`), time.Second)
	if !strings.Contains(line, "instance=") || !strings.Contains(line, "client=127.0.0.1") {
		t.Errorf("decision line lacks instance/client: %s", line)
	}
}
