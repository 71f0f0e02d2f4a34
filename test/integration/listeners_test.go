package integration

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestUnixSocketListener serves on a unix socket, as for a Postfix whose
// smtpd runs chrooted: the socket is world-connectable, answers both
// one-shot and persistent clients, a stale socket left by a killed server
// is replaced, and a live one is not stolen by a second server.
func TestUnixSocketListener(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	sock := filepath.Join(shortTempDir(t), "policy.sock")
	addr := "unix:" + sock
	conf, data := configPaths(t)
	writeConfig(t, conf, addr, data, "")
	srv := serveConfig(t, conf, addr)

	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	// Postfix's smtpd runs as another user than tempfail: the socket must
	// let others connect (access is meant to be restricted by the
	// directory's permissions).
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o666 {
		t.Errorf("%s has mode %v; want a socket with permissions 0666", sock, fi.Mode())
	}

	want(t, "query over the socket", query(t, addr, rcpt("203.0.113.7", "alice@sender.example", "bob@example.net", true)),
		greylisted(300), "greylist", "new_triplet")
	pc := dialPolicy(t, addr)
	for range 2 {
		want(t, "persistent connection over the socket",
			pc.mustAsk(t, rcpt("203.0.113.7", "alice@sender.example", "bob@example.net", true)),
			greylisted(300), "greylist", "new_triplet")
	}
	out, errOut, code := runCLI(t, "query", "--server", addr, "--client", "203.0.113.7",
		"--sender", "alice@sender.example", "--recipient", "bob@example.net")
	if code != 0 || !strings.Contains(out, "reason: new_triplet") {
		t.Errorf("tempfail query --server %s: exit %d\nstdout:\n%s\nstderr:\n%s", addr, code, out, errOut)
	}

	// kill -9 leaves the socket file behind; the next start must replace
	// it, not refuse to start.
	srv.signal(t, syscall.SIGKILL)
	srv.cmd.Wait()
	if _, err := os.Lstat(sock); err != nil {
		t.Fatalf("after SIGKILL the socket file should still be there for this test to mean anything: %v", err)
	}
	srv2 := serveConfig(t, conf, addr)
	want(t, "query after replacing a stale socket", query(t, addr, rcpt("203.0.113.8", "alice@sender.example", "bob@example.net", true)),
		greylisted(300), "greylist", "new_triplet")

	// A second server on the live socket (own data_dir, so that the socket
	// is the only conflict) must fail to start and leave the first alone.
	conf3, data3 := configPaths(t)
	writeConfig(t, conf3, addr, data3, "")
	_, errOut, code = runCLI(t, "serve", "--config", conf3)
	if code != 1 || !strings.Contains(errOut, "in use by a running server") {
		t.Errorf("second server on a live socket: exit %d, want 1 and a message that the socket is in use:\n%s", code, errOut)
	}
	if !srv2.alive() {
		t.Fatalf("the first server died when a second one tried its socket:\n%s", srv2.log.String())
	}
	want(t, "first server after the second one gave up", query(t, addr, rcpt("203.0.113.9", "alice@sender.example", "bob@example.net", true)),
		greylisted(300), "greylist", "new_triplet")
}

// TestEximReadsocket talks to the server the way Exim's ${readsocket}
// does: one request, possibly without the empty line that ends it, then a
// shutdown of the write side, then everything up to EOF is the answer.
func TestEximReadsocket(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	conf, data := configPaths(t)
	addr := freeAddr(t)
	writeConfig(t, conf, addr, data, "")
	serveConfig(t, conf, addr)

	const wantAnswer = "action=DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds\n\n"
	request := func(sender string) string {
		return "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n" +
			"client_address=198.51.100.20\nclient_name=unknown\nhelo_name=mail.sender.example\n" +
			"sender=" + sender + "\nrecipient=bob@example.net\n"
	}
	cases := []struct {
		name, msg string
	}{
		// Each sends a new sender: these are real requests, and a repeated
		// triplet would be answered with the time left instead.
		{"no empty line", request("exim1@sender.example")},
		{"no final newline", strings.TrimSuffix(request("exim2@sender.example"), "\n")},
		{"CRLF line ends", strings.ReplaceAll(request("exim3@sender.example"), "\n", "\r\n")},
		{"complete request", request("exim4@sender.example") + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			nc := dialAddr(t, addr)
			nc.SetDeadline(time.Now().Add(ioTimeout))
			if _, err := io.WriteString(nc, tc.msg); err != nil {
				t.Fatal(err)
			}
			if err := nc.(*net.TCPConn).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(nc)
			if err != nil {
				t.Fatalf("reading the answer to EOF: %v (got %q)", err, got)
			}
			if string(got) != wantAnswer {
				t.Errorf("answer %q, want %q", got, wantAnswer)
			}
		})
	}
}

// TestServeWithoutConfig runs serve with flags only: built-in defaults,
// which must be usable as they are (postgrey's behaviour).
func TestServeWithoutConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	data := filepath.Join(t.TempDir(), "state")
	addr := freeAddr(t)
	srv := serve(t, addr, "serve", "--data-dir", data, "--listen", addr, "--dns-servers", testDNS(t))
	srv.waitLog(t, regexp.MustCompile(`msg="tempfail serving" version=\S+ config="built-in defaults" listen=`+
		regexp.QuoteMeta(addr)+` data_dir=`+regexp.QuoteMeta(data)+`\s`), logTimeout)
	if _, err := os.Stat(filepath.Join(data, "tempfail.db")); err != nil {
		t.Errorf("the store is not in the --data-dir: %v", err)
	}
	want(t, "query with built-in defaults", query(t, addr, rcpt("203.0.113.7", "alice@sender.example", "bob@example.net", true)),
		greylisted(300), "greylist", "new_triplet")
	// The built-in recipient exemptions are in force.
	want(t, "postmaster with built-in defaults", query(t, addr, rcpt("203.0.113.7", "alice@sender.example", "postmaster@example.net", true)),
		"DUNNO", "greylist", "exempt_recipient")
	srv.signal(t, syscall.SIGTERM)
	if code := srv.wait(t); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0:\n%s", code, srv.log.String())
	}
}

// TestSecondServerSameDataDir starts a second server on a data_dir in use:
// it must give up with a clear message instead of waiting for the lock or
// sharing the store, and the first server must not notice.
func TestSecondServerSameDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	data := filepath.Join(t.TempDir(), "state")
	addr := freeAddr(t)
	srv := serve(t, addr, "serve", "--data-dir", data, "--listen", addr, "--dns-servers", testDNS(t))
	_, errOut, code := runCLI(t, "serve", "--data-dir", data, "--listen", freeAddr(t), "--dns-servers", testDNS(t))
	if code != 1 || !strings.Contains(errOut, "locked by another process") {
		t.Errorf("second server on the same data_dir: exit %d, want 1 and a message that the store is locked:\n%s", code, errOut)
	}
	if !srv.alive() {
		t.Fatalf("the first server died:\n%s", srv.log.String())
	}
	want(t, "first server after the second gave up", query(t, addr, rcpt("203.0.113.7", "alice@sender.example", "bob@example.net", true)),
		greylisted(300), "greylist", "new_triplet")
}
