package integration

import (
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestProtocolGarbage sends what is not a policy request, each on its own
// connection: the server must close that connection unanswered (a policy
// server must not reply on trouble, SMTPD_POLICY_README), log what was
// wrong, and keep serving everyone else.
func TestProtocolGarbage(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	conf, data := configPaths(t)
	addr := freeAddr(t)
	writeConfig(t, conf, addr, data, "")
	srv := serveConfig(t, conf, addr)

	// A well-behaved client holding its connection across the garbage.
	pc := dialPolicy(t, addr)
	want(t, "persistent connection before the garbage",
		pc.mustAsk(t, rcpt("203.0.113.7", "alice@sender.example", "bob@example.net", true)),
		greylisted(300), "greylist", "new_triplet")

	cases := []struct {
		name string
		msg  string
		kind string // the "kind" the log line (and metric label) gives
		// err is a fragment of the logged error, as the text handler
		// writes it (inner quotes escaped).
		err string
	}{
		{"binary garbage", "\x00\x01\x02\xff\xfe\x16\x03\x01 binary junk\n\n", "binary", `NUL byte in`},
		{"TLS ClientHello", "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", "binary", `NUL byte in`},
		{"line without =", "hello world\n\n", "no_equals", `no \"=\" in \"hello world\"`},
		{"HTTP request", "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "no_equals", `no \"=\" in \"GET / HTTP/1.1\"`},
		{"70 KiB request", "request=smtpd_access_policy\nsender=" + strings.Repeat("a", 70<<10) + "@example.org\n\n",
			"too_large", `request exceeds 65536 bytes`},
		{"request=bogus", "request=bogus\nprotocol_state=RCPT\n\n", "unknown_request", `unknown request type \"bogus\"`},
		{"no request attribute", "protocol_state=RCPT\nsender=alice@sender.example\n\n", "missing_request", `no \"request\" attribute`},
		{"space in a name", "request=smtpd_access_policy\nclient address=192.0.2.1\n\n", "bad_name", `in attribute name \"client address\"`},
		{"truncated by EOF", "protocol_state=RCPT\nsender=alice@sen", "truncated", `EOF in the middle of a request`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc := dialAddr(t, addr)
			// The log names the peer by its address: our local port ties
			// the log line to this connection.
			remote := nc.LocalAddr().String()
			nc.SetDeadline(time.Now().Add(ioTimeout))
			// The server may close before it has read everything (the
			// 70 KiB case): a failed write is expected then, an answer
			// is not.
			io.WriteString(nc, tc.msg)
			nc.(*net.TCPConn).CloseWrite()
			readAllNoAnswer(t, nc, tc.name)
			line := srv.waitLog(t, regexp.MustCompile(`level=WARN msg="policy protocol error; closing connection" remote=`+
				regexp.QuoteMeta(remote)+` kind=`+tc.kind+` err=.*`), logTimeout)
			if !strings.Contains(line, tc.err) {
				t.Errorf("log line\n\t%s\ndoes not say %s", line, tc.err)
			}
		})
	}

	if !srv.alive() {
		t.Fatalf("tempfail died:\n%s", srv.log.String())
	}
	if strings.Contains(srv.log.String(), "panicked") {
		t.Errorf("a handler panicked:\n%s", srv.log.String())
	}
	want(t, "new connection after the garbage", query(t, addr, rcpt("203.0.113.8", "alice@sender.example", "bob@example.net", true)),
		greylisted(300), "greylist", "new_triplet")
	want(t, "persistent connection after the garbage",
		pc.mustAsk(t, rcpt("203.0.113.7", "alice@sender.example", "bob@example.net", true)),
		greylisted(300), "greylist", "new_triplet")
}

// TestProtocolErrorMetrics checks that protocol errors are counted by kind
// on /metrics, as docs/config.md promises for operators' alerting.
func TestProtocolErrorMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	conf, data := configPaths(t)
	addr, metrics := freeAddr(t), freeAddr(t)
	// metrics_listen is a top-level key: writeConfig would put it in [log].
	writeFile(t, conf, fmt.Sprintf("metrics_listen = %q\nlisten = [%q]\ndata_dir = %q\n[dns]\nservers = [%q]\n", metrics, addr, data, testDNS(t)))
	srv := serveConfig(t, conf, addr)
	for range 2 {
		nc := dialAddr(t, addr)
		io.WriteString(nc, "hello world\n\n")
		readAllNoAnswer(t, nc, "line without =")
	}
	srv.waitLogN(t, regexp.MustCompile(`kind=no_equals`), 2)
	body := scrape(t, metrics)
	if !strings.Contains(body, `tempfail_policy_protocol_errors_total{kind="no_equals"} 2`+"\n") {
		t.Errorf("/metrics does not count 2 no_equals protocol errors:\n%s", grepLines(body, "tempfail_policy_protocol_errors_total"))
	}
}
