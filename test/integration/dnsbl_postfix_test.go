package integration

import (
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/testutil/dnstest"
	"github.com/tempfail/tempfail/internal/testutil/postfixtest"
)

// dnsblZone: a test DNSBL (bl.example) lists 127.0.0.2, the RFC 5782
// test address, with a TXT reason; a test DNSWL (wl.example) lists
// 127.0.0.3. good.example authorises 127.0.0.0/8 by SPF.
const dnsblZone = `
$TTL 300
example. IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
good.example. IN MX 10 mx.good.example.
good.example. IN TXT "v=spf1 ip4:127.0.0.0/8 -all"
mx.good.example. IN A 127.0.0.1
2.0.0.127.bl.example. IN A 127.0.0.2
2.0.0.127.bl.example. IN TXT "Listed for testing, see https://bl.example/127.0.0.2"
3.0.0.127.wl.example. IN A 127.0.10.2
example.net. IN SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 300
example.net. IN MX 10 mx.example.net.
mx.example.net. IN A 127.0.0.1
127.in-addr.arpa. IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
`

// TestDNSBLWithPostfix: real Postfix, real tempfail, a DNSBL and a DNSWL
// served on loopback. Postfix presents the client address given by XCLIENT
// to the policy server, as it would a real client's. A listed client is
// rejected with postscreen's words (and the list's reason); a client on
// the DNSWL skips greylisting; an unlisted one is greylisted.
func TestDNSBLWithPostfix(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test with real Postfix: skipped in -short mode")
	}
	dns := dnstest.Start(t, dnsblZone)
	srv := startServer(t, fmt.Sprintf(`
[dns]
servers = [%q]
[dnsbl]
sites = ["bl.example*3", "wl.example=127.0.[0..255].[1..3]*-2"]
[greylist]
delay = "1h"
`, dns.Addr()))
	pf := postfixtest.Start(t, postfixtest.Options{PolicyAddr: srv.Addr, XCLIENT: true})
	from := func(addr, subject string) string {
		out, _ := pf.Swaks(t, "--from", "alice@good.example", "--to", "bob@example.net", "--helo", "mail.good.example",
			"--xclient-addr", addr, "--header", "Subject: "+subject)
		return out
	}

	out := from("127.0.0.2", "listed")
	re := regexp.MustCompile(`550 5\.7\.1 <bob@example\.net>: Recipient address rejected: Service unavailable; client \[127\.0\.0\.2\] blocked using bl\.example; Listed for testing, see https://bl\.example/127\.0\.0\.2`)
	if !re.MatchString(out) {
		t.Fatalf("listed client: want 550 5.7.1 Service unavailable; client [127.0.0.2] blocked using bl.example; swaks said:\n%s", out)
	}
	srv.waitLog(t, regexp.MustCompile(`check=dnsbl reason=dnsbl_listed`), 5*time.Second)

	out = from("127.0.0.3", "allowlisted")
	if !accepted(out) {
		t.Fatalf("DNSWL-listed client: want accepted without greylisting; swaks said:\n%s", out)
	}
	srv.waitLog(t, regexp.MustCompile(`check=greylist reason=exempt_dnswl`), 5*time.Second)

	out = from("127.0.0.4", "unlisted")
	if greylistedFor(out) < 0 {
		t.Fatalf("unlisted client: want greylisting; swaks said:\n%s", out)
	}
}
