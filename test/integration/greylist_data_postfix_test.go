package integration

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/testutil/postfixtest"
)

// TestDeferAtDataWithPostfix: with defer_at = "data", a message to two
// recipients is never half accepted: both RCPTs are let through, DATA is
// deferred while any recipient is greylisted, and the retry delivers one
// copy to each recipient, with one X-Greylist header.
func TestDeferAtDataWithPostfix(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test with real Postfix: skipped in -short mode")
	}
	srv := startServer(t, `
[greylist]
delay = "4s"
retry_window = "1h"
defer_at = "data"
`)
	pf := postfixtest.Start(t, postfixtest.Options{PolicyAddr: srv.Addr, PolicyAtData: true})

	args := []string{"--from", "news@sender.example", "--to", "one@example.net,two@example.net",
		"--helo", "mail.sender.example", "--header", "Subject: both"}
	start := time.Now()
	out, _ := pf.Swaks(t, args...)
	if strings.Count(out, "250 2.1.5 Ok") != 2 {
		t.Fatalf("both RCPTs should be accepted at RCPT time:\n%s", out)
	}
	if !regexp.MustCompile(`(?m)^<\S*\s+450 4\.2\.0 <DATA>: Data command rejected: Greylisted, retry after \d seconds`).MatchString(out) {
		t.Fatalf("DATA was not deferred as a whole:\n%s", out)
	}
	if n := len(pf.Messages(t)); n != 0 {
		t.Fatalf("%d message(s) delivered before the delay", n)
	}

	time.Sleep(time.Until(start.Add(4200 * time.Millisecond)))
	out, _ = pf.Swaks(t, args...)
	if !accepted(out) {
		t.Fatalf("retry after the delay was not accepted:\n%s", out)
	}
	msgs := pf.WaitMessages(t, 2, 10*time.Second)
	for _, m := range msgs {
		if got := m.Header["X-Greylist"]; len(got) != 1 {
			t.Fatalf("copy for %s has %d X-Greylist headers, want 1:\n%s", m.Header.Get("Delivered-To"), len(got), m.Raw)
		}
	}
	srv.waitLog(t, regexp.MustCompile(`state=DATA .*reason=greylisted_at_data`), time.Second)
}
