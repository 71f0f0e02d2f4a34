package integration

import (
	"fmt"
	"strings"
	"testing"
)

// TestOversizedSender: a sender far beyond RFC 5321's 256-octet path limit
// (anyone who can reach the policy port can send one) is greylisted like
// any other, not turned into a store error: the key caps each address.
// on_error itself is tested in-process with a failing store
// (internal/daemon TestOnError) and in the engine's tests.
func TestOversizedSender(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	conf, data := configPaths(t)
	addr := freeAddr(t)
	writeFile(t, conf, fmt.Sprintf("listen = [%q]\ndata_dir = %q\n[log]\nlevel = \"debug\"\n[dns]\nservers = [%q]\n", addr, data, testDNS(t)))
	srv := serveConfig(t, conf, addr)
	longSender := strings.Repeat("x", 33000) + "@sender.example"
	want(t, "oversized sender", query(t, addr, rcpt("203.0.113.7", longSender, "bob@example.net", false)),
		greylisted(300), "greylist", "new_triplet")
	if strings.Contains(srv.log.String(), "level=ERROR") {
		t.Errorf("an oversized sender logged an error:\n%s", srv.log.String())
	}
}
