package integration

import (
	"context"
	"encoding/json"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/postfixpolicy"
	"github.com/tempfail/tempfail/internal/testutil/postfixtest"
)

var newClientLimitRe = regexp.MustCompile(`450 4\.7\.1 (?:<END-OF-MESSAGE>: End-of-data rejected: )?Rate limit for new clients exceeded \(2/h\), try again in (\d+) minutes`)

// TestRateLimitNewClientsWithPostfix is the seed's "450 4.7.1 ... rate
// limit for new clients (2/h)" after end of DATA, end to end: real Postfix
// asks the real tempfail binary in smtpd_end_of_data_restrictions, swaks
// sends three messages from a new client, the first two are delivered and
// the third is deferred with the real wait in the text.
func TestRateLimitNewClientsWithPostfix(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test with real Postfix: skipped in -short mode")
	}
	srv := startServer(t, dnsChecksOff(t)+`
[greylist]
enabled = false

[[ratelimit.limit]]
name  = "new-clients"
key   = ["client_address"]
count = "messages"
state = "end-of-message"
rate  = "2/h"
scope = "new"
`)
	pf := postfixtest.Start(t, postfixtest.Options{PolicyAddr: srv.Addr, PolicyAtEndOfData: true})

	for i := 1; i <= 2; i++ {
		out := send(t, pf, "alice@sender.example", "bob@example.net", "message "+strconv.Itoa(i))
		if !accepted(out) {
			t.Fatalf("message %d of a 2/h limit was not accepted:\n%s", i, out)
		}
	}
	pf.WaitMessages(t, 2, 10*time.Second)

	out := send(t, pf, "alice@sender.example", "bob@example.net", "message 3")
	m := newClientLimitRe.FindStringSubmatch(out)
	if m == nil || accepted(out) {
		t.Fatalf("third message: want 450 4.7.1 Rate limit for new clients exceeded (2/h), try again in N minutes; swaks said:\n%s", out)
	}
	// Two messages at once used the burst; the next unit drains 30
	// minutes after the first (FormatWait rounds up).
	if n, _ := strconv.Atoi(m[1]); n < 29 || n > 30 {
		t.Fatalf("wait %d minutes, want 29-30:\n%s", n, out)
	}
	pf.WaitLog(t, regexp.MustCompile(`reject: END-OF-MESSAGE from \S+: 450 4\.7\.1 <END-OF-MESSAGE>: End-of-data rejected: Rate limit for new clients exceeded \(2/h\), try again in \d+ minutes`), 5*time.Second)
	if n := len(pf.Messages(t)); n != 2 {
		t.Fatalf("%d messages delivered, want 2", n)
	}
	srv.waitLog(t, regexp.MustCompile(`msg="rate limit exceeded" limit=new-clients key=127\.0\.0\.1 mode=enforce action=defer`), time.Second)
	srv.waitLog(t, regexp.MustCompile(`msg=decision state=END-OF-MESSAGE .*check=ratelimit reason=over_limit action="450 4\.7\.1 Rate limit for new clients exceeded`), time.Second)

	// `tempfail query` shows the limit, its key and the budget left,
	// without consuming any.
	q := &policy.Request{Kind: postfixpolicy.RequestType, State: policy.StateEndOfMessage,
		ClientAddress: "127.0.0.1", Client: netip.MustParseAddr("127.0.0.1"), Sender: "alice@sender.example",
		RcptCount: 1, Instance: "query.1", DryRun: true}
	for i := 0; i < 2; i++ {
		resp, err := postfixpolicy.Query(context.Background(), srv.Addr, q, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Limits) != 1 || !regexp.MustCompile(`^new-clients key=127\.0\.0\.1 remaining=0 retry_after=\d+ `).MatchString(resp.Limits[0]) {
			t.Fatalf("query: %+v", resp)
		}
	}
}

// TestRateLimitHoldWithPostfix: a limit with action "hold" sends the
// message over the limit to Postfix's hold queue (postqueue -j shows it
// with queue_name "hold"). The authenticated path runs through Postfix
// too: XCLIENT LOGIN= makes smtpd treat the session as SASL-authenticated
// and send sasl_username to the policy server, so an authenticated-scope
// limit keyed on sasl_username holds alice's third message by default.
func TestRateLimitHoldWithPostfix(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test with real Postfix: skipped in -short mode")
	}
	srv := startServer(t, dnsChecksOff(t)+`
[greylist]
enabled = false

[[ratelimit.limit]]
name  = "per-client"
key   = ["client_address"]
rate  = "1/h"
action = "hold"
exempt_clients = ["192.0.2.0/24"]

[[ratelimit.limit]]
name  = "users"
key   = ["sasl_username"]
count = "recipients"
rate  = "2/h"
scope = "authenticated"
`)
	pf := postfixtest.Start(t, postfixtest.Options{PolicyAddr: srv.Addr, PolicyAtEndOfData: true, XCLIENT: true,
		ExtraMainCF: map[string]string{"smtpd_sasl_auth_enable": "yes"}})

	// 1. Anonymous client keyed on its address: the second message is held.
	for i := 1; i <= 2; i++ {
		if out := send(t, pf, "carol@sender.example", "bob@example.net", "client "+strconv.Itoa(i)); !accepted(out) {
			t.Fatalf("message %d not accepted (HOLD accepts, then holds):\n%s", i, out)
		}
	}
	pf.WaitMessages(t, 1, 10*time.Second)
	pf.WaitLog(t, regexp.MustCompile(`hold: END-OF-MESSAGE from \S+: <END-OF-MESSAGE>: End-of-data rate limit per-client exceeded by 127\.0\.0\.1 \(1/h\), held for review`), 5*time.Second)
	waitHeld(t, pf, 1)

	// 2. An authenticated user (XCLIENT LOGIN=alice, from an exempt
	// network so only the users limit applies): 2 recipients per hour, the
	// second message with 1 more recipient is held (default action for
	// scope authenticated), and tempfail warns naming the user.
	sendAs := func(subject string, to string) string {
		out, _ := pf.Swaks(t, "--from", "alice@example.net", "--to", to, "--helo", "client.example",
			"--xclient-addr", "192.0.2.10", "--xclient-login", "alice", "--header", "Subject: "+subject)
		return out
	}
	if out := sendAs("user 1", "bob@example.net,carol@example.net"); !accepted(out) {
		t.Fatalf("alice's first message not accepted:\n%s", out)
	}
	pf.WaitMessages(t, 3, 10*time.Second) // one copy per recipient
	if out := sendAs("user 2", "bob@example.net"); !accepted(out) {
		t.Fatalf("alice's second message not accepted:\n%s", out)
	}
	srv.waitLog(t, regexp.MustCompile(`level=WARN msg="rate limit exceeded" limit=users key=alice .*action=hold .*sasl_username=alice`), 5*time.Second)
	pf.WaitLog(t, regexp.MustCompile(`hold: END-OF-MESSAGE from \S+: <END-OF-MESSAGE>: End-of-data sending quota for alice exceeded \(2/h\), held for review by limit users`), 5*time.Second)
	waitHeld(t, pf, 2)
}

// waitHeld waits until postqueue -j lists n messages in the hold queue.
func waitHeld(t *testing.T, pf *postfixtest.Instance, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		q := pf.Postqueue(t)
		held := 0
		for _, line := range strings.Split(strings.TrimSpace(q), "\n") {
			var m struct {
				QueueName string `json:"queue_name"`
			}
			if line != "" && json.Unmarshal([]byte(line), &m) == nil && m.QueueName == "hold" {
				held++
			}
		}
		if held >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d message(s) in the hold queue, want %d; postqueue -j:\n%s", held, n, q)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dnsChecksOff returns config sections that turn off the DNS-based checks
// (sender domain, reverse DNS, SPF, DNSBL) that this binary knows: the
// test's made-up domains do not resolve, and these tests are about rate
// limits alone. A section the binary does not know is left out.
func dnsChecksOff(t *testing.T) string {
	t.Helper()
	var out strings.Builder
	for i, text := range []string{
		"[senderdomain]\nenabled = false\n", "[reversedns]\nenabled = false\n", "[reversedns]\nmode = \"off\"\n",
		"[spf]\nenabled = false\n", "[dnsbl]\nenabled = false\n",
	} {
		path := filepath.Join(t.TempDir(), strconv.Itoa(i)+".toml")
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if exec.Command(binary, "serve", "--check-config", "--config", path).Run() == nil {
			out.WriteString(text)
		}
	}
	return out.String()
}
