package integration

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/testutil/dnstest"
	"github.com/tempfail/tempfail/internal/testutil/postfixtest"
)

// dnsZone: good.example exists and authorises 127.0.0.1 by SPF;
// nowhere.example does not exist; nullmx.example publishes a null MX.
const dnsZone = `
$TTL 300
example. IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
good.example. IN MX 10 mx.good.example.
good.example. IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
mx.good.example. IN A 127.0.0.1
nullmx.example. IN MX 0 .
example.net. IN SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 300
example.net. IN MX 10 mx.example.net.
mx.example.net. IN A 127.0.0.1
127.in-addr.arpa. IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
`

// TestDNSChecksWithPostfix: real Postfix asks the real tempfail, which asks
// a DNS server on loopback. A sender whose domain does not exist is told so
// at once, in Postfix's own words when the policy is also asked from
// smtpd_sender_restrictions (policy_context=sender); a good sender is
// greylisted and then accepted, with Received-SPF and X-Greylist.
func TestDNSChecksWithPostfix(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test with real Postfix: skipped in -short mode")
	}
	dns := dnstest.Start(t, dnsZone)
	srv := startServer(t, fmt.Sprintf(`
[dns]
servers = [%q]
[greylist]
delay = "3s"
retry_window = "1h"
[spf]
receiver = "mx.example.net"
`, dns.Addr()))
	pf := postfixtest.Start(t, postfixtest.Options{
		PolicyAddr:   srv.Addr,
		PolicyAtData: true, // lets a second header reach a one-recipient message
		ExtraMainCF: map[string]string{
			"smtpd_sender_restrictions": fmt.Sprintf("check_policy_service { inet:%s, default_action=DUNNO, policy_context=sender }", srv.Addr),
		},
	})

	// 1. No such domain: 450 4.1.8, as reject_unknown_sender_domain words it.
	out := send(t, pf, "alice@nowhere.example", "bob@example.net", "nowhere")
	if !regexp.MustCompile(`450 4\.1\.8 <alice@nowhere\.example>: Sender address rejected: Domain not found`).MatchString(out) {
		t.Fatalf("sender domain without records: want 450 4.1.8 ... Domain not found; swaks said:\n%s", out)
	}
	srv.waitLog(t, regexp.MustCompile(`check=senderdomain reason=domain_not_found`), 5*time.Second)

	// 2. Null MX: 550 5.7.27.
	out = send(t, pf, "alice@nullmx.example", "bob@example.net", "nullmx")
	if !regexp.MustCompile(`550 5\.7\.27 <alice@nullmx\.example>: Sender address rejected: Domain does not accept mail`).MatchString(out) {
		t.Fatalf("null MX sender: want 550 5.7.27; swaks said:\n%s", out)
	}

	// 3. A good domain is greylisted as before, keyed on its SPF identity.
	start := time.Now()
	out = send(t, pf, "alice@good.example", "bob@example.net", "first")
	if n := greylistedFor(out); n != 3 {
		t.Fatalf("good sender, first attempt: want greylisting; swaks said:\n%s", out)
	}
	srv.waitLog(t, regexp.MustCompile(`check=greylist reason=new_triplet`), 5*time.Second)
	time.Sleep(time.Until(start.Add(3*time.Second + 300*time.Millisecond)))
	out = send(t, pf, "alice@good.example", "bob@example.net", "retry")
	if !accepted(out) {
		t.Fatalf("good sender, retry after the delay: not accepted:\n%s", out)
	}
	msgs := pf.WaitMessages(t, 1, 10*time.Second)
	h := msgs[0].Header
	if xg := h.Get("X-Greylist"); !strings.HasPrefix(xg, "delayed ") {
		t.Errorf("no X-Greylist on the delivered copy:\n%s", msgs[0].Raw)
	}
	if rs := h.Get("Received-SPF"); !strings.HasPrefix(rs, "pass (mx.example.net: domain of alice@good.example designates 127.0.0.1 as permitted sender)") ||
		!strings.Contains(rs, "identity=mailfrom;") {
		t.Errorf("Received-SPF missing or wrong: %q\n%s", rs, msgs[0].Raw)
	}
}
