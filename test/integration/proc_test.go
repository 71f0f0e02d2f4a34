package integration

// Helpers for the tests that drive the tempfail binary directly (no
// Postfix): starting it with arbitrary arguments, signalling it, running the
// CLI, and talking the policy protocol on persistent connections.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/postfixpolicy"
)

// Generous bounds for a noisy 2-core VM. They only decide when a test gives
// up; nothing asserts how long anything took.
const (
	startTimeout = 20 * time.Second
	logTimeout   = 15 * time.Second
	exitTimeout  = 20 * time.Second
	ioTimeout    = 15 * time.Second
)

// servingRe matches the line serve logs when it is ready. serve.go installs
// its SIGHUP/SIGTERM handlers (signal.Notify) only after opening the
// listeners and after logging this line; a signal that comes earlier takes
// Go's default action and kills the process. So tests never signal on "the
// port answers" (see serve for the remaining window).
var servingRe = regexp.MustCompile(`msg="tempfail serving"`)

// notifyMargin covers the few statements between the "tempfail serving"
// line and signal.Notify in serve.go: the server's thread would have to be
// descheduled for all of it to lose a signal to the default action.
const notifyMargin = 100 * time.Millisecond

// writeConfig writes a config for addr and dataDir, with debug logs, and
// extra appended; it returns the text so a test can find line numbers in it.
func writeConfig(t *testing.T, path, addr, dataDir, extra string) string {
	t.Helper()
	if !strings.Contains(extra, "[dns]") {
		extra += fmt.Sprintf("\n[dns]\nservers = [%q]\n", testDNS(t))
	}
	conf := fmt.Sprintf("listen = [%q]\ndata_dir = %q\n[log]\nlevel = \"debug\"\n%s", addr, dataDir, extra)
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// lineOf returns the 1-based number of the first line of text containing sub.
func lineOf(t *testing.T, text, sub string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			return i + 1
		}
	}
	t.Fatalf("%q not in config text:\n%s", sub, text)
	return 0
}

// serve runs `tempfail ARGS...` (normally "serve" and its flags) and waits
// until it logs that it is serving. addr is the policy address tests use
// (host:port or unix:/path); the caller knows it from the args it passed.
// The process is stopped with SIGTERM when the test ends, unless the test
// stopped it already.
func serve(t *testing.T, addr string, args ...string) *server {
	t.Helper()
	s := &server{Addr: addr, log: &syncBuffer{}}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("tempfail %s log:\n%s", strings.Join(args, " "), s.log.String())
		}
	})
	deadline := time.Now().Add(startTimeout)
	for !servingRe.MatchString(s.log.String()) {
		if strings.Contains(s.log.String(), `msg="cannot start"`) {
			t.Fatalf("tempfail did not start:\n%s", s.log.String())
		}
		if time.Now().After(deadline) {
			t.Fatalf("tempfail did not log %q within %v:\n%s", servingRe, startTimeout, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(notifyMargin)
	return s
}

// serveConfig runs `tempfail serve --config path`.
func serveConfig(t *testing.T, path, addr string) *server {
	t.Helper()
	return serve(t, addr, "serve", "--config", path)
}

// signal sends sig to the server process.
func (s *server) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits for the process to exit and returns its exit code; it fails
// the test if the process is still running after exitTimeout or was killed
// by a signal.
func (s *server) wait(t *testing.T) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee) && ee.Exited():
			return ee.ExitCode()
		default:
			t.Fatalf("tempfail ended with %v:\n%s", err, s.log.String())
		}
	case <-time.After(exitTimeout):
		s.cmd.Process.Kill()
		<-done
		t.Fatalf("tempfail still running %v after it was told to stop:\n%s", exitTimeout, s.log.String())
	}
	return -1
}

// alive reports whether the process is still running. Signal 0 is not
// enough: it also reaches a zombie (exited, not yet waited for), so the
// state letter in /proc/PID/stat decides.
func (s *server) alive() bool {
	if s.cmd.ProcessState != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return false
	}
	// "PID (comm) S ...": comm may hold spaces and parentheses.
	rest := string(b[bytes.LastIndexByte(b, ')')+1:])
	f := strings.Fields(rest)
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// waitLogN waits until re has matched at least n times in the log, and
// returns the n-th match. For lines that recur (reloads, errors).
func (s *server) waitLogN(t *testing.T, re *regexp.Regexp, n int) string {
	t.Helper()
	deadline := time.Now().Add(logTimeout)
	for {
		if m := re.FindAllString(s.log.String(), -1); len(m) >= n {
			return m[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("tempfail log never matched %s %d times:\n%s", re, n, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countLog is how many times re has matched in the log so far.
func (s *server) countLog(re *regexp.Regexp) int {
	return len(re.FindAllString(s.log.String(), -1))
}

// runCLI runs `tempfail ARGS...` to completion and returns its output and
// exit code.
func runCLI(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		code = ee.ExitCode()
	default:
		t.Fatalf("tempfail %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, o.String(), e.String())
	}
	return o.String(), e.String(), code
}

// rcpt is an RCPT-state request as Postfix sends it. dryRun requests change
// no state; verbose ones are answered with check and reason.
func rcpt(client, sender, recipient string, dryRun bool) *policy.Request {
	return &policy.Request{
		Kind:              postfixpolicy.RequestType,
		State:             policy.StateRcpt,
		Protocol:          "ESMTP",
		ClientAddress:     client,
		Client:            netip.MustParseAddr(client),
		ClientName:        "unknown",
		ReverseClientName: "unknown",
		HeloName:          "mail.sender.example",
		Sender:            sender,
		Recipient:         recipient,
		Instance:          fmt.Sprintf("it.%d", time.Now().UnixNano()),
		DryRun:            dryRun,
		Extra:             []policy.Attr{{Name: postfixpolicy.AttrVerbose, Value: "yes"}},
	}
}

// query asks the server once, on a new connection, as `tempfail query` does.
func query(t *testing.T, addr string, req *policy.Request) postfixpolicy.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	resp, err := postfixpolicy.Query(ctx, addr, req, true)
	if err != nil {
		t.Fatalf("query %s for %s %s -> %s: %v", addr, req.ClientAddress, req.Sender, req.Recipient, err)
	}
	return resp
}

// policyConn is one persistent policy connection, as a Postfix smtpd keeps
// one open across requests.
type policyConn struct {
	nc net.Conn
	br *bufio.Reader
}

// dialAddr connects to a host:port or unix:/path address.
func dialAddr(t *testing.T, addr string) net.Conn {
	t.Helper()
	network, address := "tcp", addr
	if p, ok := strings.CutPrefix(addr, "unix:"); ok {
		network, address = "unix", p
	}
	nc, err := net.DialTimeout(network, address, ioTimeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

func dialPolicy(t *testing.T, addr string) *policyConn {
	t.Helper()
	nc := dialAddr(t, addr)
	return &policyConn{nc: nc, br: bufio.NewReader(nc)}
}

// ask sends req on the connection and reads the answer.
func (c *policyConn) ask(req *policy.Request) (postfixpolicy.Response, error) {
	c.nc.SetDeadline(time.Now().Add(ioTimeout))
	if err := postfixpolicy.EncodeRequest(c.nc, req); err != nil {
		return postfixpolicy.Response{}, err
	}
	return postfixpolicy.ReadResponse(c.br, 0)
}

// mustAsk is ask for when an answer is required.
func (c *policyConn) mustAsk(t *testing.T, req *policy.Request) postfixpolicy.Response {
	t.Helper()
	resp, err := c.ask(req)
	if err != nil {
		t.Fatalf("persistent connection, %s %s -> %s: %v", req.ClientAddress, req.Sender, req.Recipient, err)
	}
	return resp
}

// readAllNoAnswer reads until the server closes nc and fails the test if it
// sent anything: on a protocol error a policy server must close the
// connection unanswered. A reset counts as a close (the server may close
// with our unread bytes still queued).
func readAllNoAnswer(t *testing.T, nc net.Conn, what string) {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(ioTimeout))
	b, err := io.ReadAll(nc)
	if err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("%s: waiting for the server to close the connection: %v", what, err)
	}
	if len(b) > 0 {
		t.Errorf("%s: server answered %q; want the connection closed unanswered", what, b)
	}
}

// want checks an answer's action, check and reason.
func want(t *testing.T, what string, got postfixpolicy.Response, action, check, reason string) {
	t.Helper()
	if got.Action != action || got.Check != check || got.Reason != reason {
		t.Errorf("%s: got action=%q check=%q reason=%q (detail %q); want action=%q check=%q reason=%q",
			what, got.Action, got.Check, got.Reason, got.Detail, action, check, reason)
	}
}

// greylisted is the action for a new triplet with the given delay.
func greylisted(seconds int) string {
	return fmt.Sprintf("DEFER_IF_PERMIT 4.2.0 Greylisted, retry after %d seconds", seconds)
}

// shortTempDir is a directory with a short path, for unix sockets
// (sun_path holds ~108 bytes; t.TempDir() paths can be longer).
func shortTempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "tf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// configPaths returns a fresh config path and data dir under t.TempDir().
func configPaths(t *testing.T) (conf, data string) {
	dir := t.TempDir()
	return filepath.Join(dir, "tempfail.toml"), filepath.Join(dir, "data")
}

// scrape returns the body of http://addr/metrics.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	c := &http.Client{Timeout: ioTimeout}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %v %v", resp.Status, err)
	}
	return string(b)
}

// grepLines returns the lines of text that contain sub, for messages.
func grepLines(text, sub string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
