package integration

import (
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestOnError makes the store fail from outside and checks both on_error
// answers. The store refuses keys longer than bbolt's 32 KiB limit
// (store.MaxKeyLen), and the greylisting key holds the sender verbatim,
// while a request may be up to 64 KiB: a 33 000-byte sender is a store
// error for that one request only, with the server otherwise healthy.
// Postfix never sends such a sender (RFC 5321 caps a path at 256 octets),
// so this is a probe, not a scenario.
func TestOnError(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	conf, data := configPaths(t)
	addr, metrics := freeAddr(t), freeAddr(t)
	longSender := strings.Repeat("x", 33000) + "@sender.example"
	errLineRe := regexp.MustCompile(`level=ERROR msg="check failed; answering on_error" check=greylist kind=error error=.*`)

	config := func(onError string) {
		writeFile(t, conf, fmt.Sprintf("listen = [%q]\ndata_dir = %q\nmetrics_listen = %q\non_error = %q\n[log]\nlevel = \"debug\"\n",
			addr, data, metrics, onError))
	}
	cases := []struct {
		onError, action string
	}{
		// 451 4.3.0: "local error in processing", never a 5xx.
		{"defer", "451 4.3.0 Temporary policy service problem, try again later"},
		// Switched by a reload, as an admin would.
		{"dunno", "DUNNO"},
	}
	config(cases[0].onError)
	srv := serveConfig(t, conf, addr) // on the parent test: it outlives the subtests
	for i, tc := range cases {
		t.Run(tc.onError, func(t *testing.T) {
			if i > 0 {
				config(tc.onError)
				srv.signal(t, syscall.SIGHUP)
				srv.waitLogN(t, reloadedRe, i)
			}
			got := query(t, addr, rcpt("203.0.113.7", longSender, "bob@example.net", false))
			want(t, "request whose key the store refuses", got, tc.action, "greylist", "internal_error")
			line := srv.waitLogN(t, errLineRe, i+1)
			if !strings.Contains(line, "bad key") {
				t.Errorf("the error log line does not say what failed:\n\t%.300s", line)
			}
			body := scrape(t, metrics)
			wantMetric := fmt.Sprintf(`tempfail_check_errors_total{check="greylist",kind="error"} %d`+"\n", i+1)
			if !strings.Contains(body, wantMetric) {
				t.Errorf("/metrics lacks %q:\n%s", wantMetric, grepLines(body, "tempfail_check_errors_total"))
			}
			// Only that request failed: the next one is decided normally.
			want(t, "ordinary request after the failure",
				query(t, addr, rcpt("203.0.113.7", fmt.Sprintf("alice%d@sender.example", i), "bob@example.net", true)),
				greylisted(300), "greylist", "new_triplet")
		})
	}
}
