package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/postfixpolicy"
)

var (
	reloadedRe     = regexp.MustCompile(`msg=reloaded config=\S+`)
	reloadFailedRe = regexp.MustCompile(`msg="reload failed; keeping the running configuration" error=.*`)
	shuttingDownRe = regexp.MustCompile(`msg="shutting down" signal=terminated`)
	stoppedRe      = regexp.MustCompile(`msg="stopped cleanly"`)
	tooEarlyRe     = regexp.MustCompile(`^DEFER_IF_PERMIT 4\.2\.0 Greylisted, retry after (\d+) seconds$`)
)

// TestReloadOnSIGHUP changes the config file and a client list file under
// a running server: SIGHUP must apply both without dropping a persistent
// connection, and a broken config must leave the running one in force.
func TestReloadOnSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	conf, data := configPaths(t)
	dir := filepath.Dir(conf)
	list := filepath.Join(dir, "whitelist_clients.local")
	// postgrey's whitelist_clients format: comments, CIDRs, hostnames.
	writeFile(t, list, "# local exemptions\n198.51.100.0/24\nmail.partner.example\n")
	addr := freeAddr(t)
	greylist := func(delay string, files ...string) string {
		return fmt.Sprintf("[greylist]\ndelay = %q\nclient_files = [%s]\n", delay, quoteList(files))
	}
	writeConfig(t, conf, addr, data, greylist("300s", list))
	srv := serveConfig(t, conf, addr)

	// Opened before the reload, as Postfix's smtpd processes hold theirs.
	pc := dialPolicy(t, addr)
	want(t, "before reload", pc.mustAsk(t, rcpt("192.0.2.7", "alice@sender.example", "bob@example.net", true)),
		greylisted(300), "greylist", "new_triplet")

	writeConfig(t, conf, addr, data, greylist("120s", list))
	appendFile(t, list, "192.0.2.0/24\n")
	srv.signal(t, syscall.SIGHUP)
	srv.waitLogN(t, reloadedRe, 1)

	// The running config is now delay 120s with 192.0.2.0/24 exempt; check
	// it on the old connection and on new ones.
	checkReloaded := func(when string) {
		t.Helper()
		got := pc.mustAsk(t, rcpt("192.0.2.7", "alice@sender.example", "bob@example.net", true))
		want(t, when+", persistent connection, listed client", got, "DUNNO", "greylist", "exempt_client")
		if !strings.Contains(got.Detail, "192.0.2.0/24") {
			t.Errorf("%s: exemption detail %q does not name the list entry 192.0.2.0/24", when, got.Detail)
		}
		want(t, when+", persistent connection, new triplet",
			pc.mustAsk(t, rcpt("203.0.113.9", "carol@elsewhere.example", "bob@example.net", true)),
			greylisted(120), "greylist", "new_triplet")
		want(t, when+", new connection, listed client",
			query(t, addr, rcpt("192.0.2.8", "dave@sender.example", "bob@example.net", true)),
			"DUNNO", "greylist", "exempt_client")
		want(t, when+", new connection, new triplet",
			query(t, addr, rcpt("203.0.113.10", "erin@elsewhere.example", "bob@example.net", true)),
			greylisted(120), "greylist", "new_triplet")
	}
	checkReloaded("after reload")

	// Each broken reload must be refused with the place of the error and
	// change nothing.
	broken := filepath.Join(dir, "broken_clients")
	writeFile(t, broken, "# a list file with a typo on line 3\n10.0.0.0/8\nmail.example .org\n")
	cases := []struct {
		name   string
		config string
		// where returns the text the error must contain, given the
		// config file's text (for line numbers).
		where func(text string) string
	}{
		{
			name:   "unknown key",
			config: greylist("120s", list) + "delai = \"60s\"\n",
			where: func(text string) string {
				return fmt.Sprintf("%s:%d: unknown key", conf, lineOf(t, text, "delai"))
			},
		},
		{
			name:   "bad duration",
			config: "[greylist]\ndelay = \"5 minutes\"\n",
			where: func(text string) string {
				return fmt.Sprintf("%s:%d: greylist.delay: invalid duration", conf, lineOf(t, text, "5 minutes"))
			},
		},
		{
			name:   "TOML syntax",
			config: greylist("120s", list) + "retry_window = \n",
			where: func(text string) string {
				return fmt.Sprintf("%s:%d:", conf, lineOf(t, text, "retry_window"))
			},
		},
		{
			name:   "bad entry in a list file",
			config: greylist("60s", list, broken),
			where:  func(string) string { return broken + ":3: invalid entry" },
		},
		{
			name:   "missing list file",
			config: greylist("60s", list, filepath.Join(dir, "no_such_list")),
			where:  func(string) string { return filepath.Join(dir, "no_such_list") },
		},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			text := writeConfig(t, conf, addr, data, tc.config)
			srv.signal(t, syscall.SIGHUP)
			line := srv.waitLogN(t, reloadFailedRe, i+1)
			if w := tc.where(text); !strings.Contains(line, w) {
				t.Errorf("reload failure logged as\n\t%s\nwant it to contain %q", line, w)
			}
			checkReloaded("after failed reload (" + tc.name + ")")
		})
	}
	if n := srv.countLog(reloadedRe); n != 1 {
		t.Errorf("%d reloads logged as successful, want 1:\n%s", n, srv.log.String())
	}

	// Failed reloads must not wedge reloading: a good config applies again.
	writeConfig(t, conf, addr, data, greylist("60s", list))
	srv.signal(t, syscall.SIGHUP)
	srv.waitLogN(t, reloadedRe, 2)
	want(t, "after a good reload following failed ones",
		pc.mustAsk(t, rcpt("203.0.113.11", "frank@elsewhere.example", "bob@example.net", true)),
		greylisted(60), "greylist", "new_triplet")
}

// TestDrainOnSIGTERM stops a busy server: requests in flight are answered,
// idle connections are closed between requests, the process exits 0, and
// the greylisting state written just before is there after a restart on
// the same data_dir.
func TestDrainOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	conf, data := configPaths(t)
	addr := freeAddr(t)
	// flush_interval at its maximum, so the periodic group commit is
	// unlikely to have run between the requests below and SIGTERM: the
	// state that survives the restart is what Shutdown flushed.
	const storeConf = "[store]\nflush_interval = \"10s\"\n"
	writeConfig(t, conf, addr, data, storeConf)
	srv := serveConfig(t, conf, addr)

	committed := rcpt("203.0.113.50", "alice@sender.example", "bob@example.net", false)
	want(t, "committed first attempt", query(t, addr, committed), greylisted(300), "greylist", "new_triplet")

	// Busy connections send dry-run requests back to back until the
	// server closes them.
	const busy = 3
	var signalled atomic.Bool
	type result struct {
		answered int
		err      error
		early    bool // ended before SIGTERM was sent
	}
	results := make(chan result, busy)
	started := make(chan struct{}, busy)
	for i := range busy {
		pc := dialPolicy(t, addr)
		req := rcpt(fmt.Sprintf("198.51.100.%d", i+1), "busy@sender.example", "bob@example.net", true)
		go func() {
			n := 0
			for {
				resp, err := pc.ask(req)
				if err == nil && resp.Action != greylisted(300) {
					err = fmt.Errorf("unexpected answer %q", resp.Action)
				}
				if err != nil {
					results <- result{n, err, !signalled.Load()}
					return
				}
				if n++; n == 1 {
					started <- struct{}{}
				}
				// A breather keeps the debug log readable; the
				// connection still always has a request coming.
				time.Sleep(time.Millisecond)
			}
		}()
	}
	for range busy {
		select {
		case <-started:
		case r := <-results:
			t.Fatalf("a busy connection failed before its first answer: %v", r.err)
		case <-time.After(ioTimeout):
			t.Fatal("busy connections got no answers")
		}
	}

	// In-flight connections have sent the first half of a real request
	// when SIGTERM comes: the server has started reading it, so Shutdown
	// must wait for the rest and answer it.
	type halfReq struct {
		pc             *policyConn
		rest           []byte
		client, sender string
	}
	var inflight []halfReq
	for i := range 2 {
		// Distinct senders: clients of one /24 share greylisting keys.
		client, sender := fmt.Sprintf("203.0.113.%d", 60+i), fmt.Sprintf("inflight%d@sender.example", i)
		var b bytes.Buffer
		if err := postfixpolicy.EncodeRequest(&b, rcpt(client, sender, "bob@example.net", false)); err != nil {
			t.Fatal(err)
		}
		msg := b.Bytes()
		pc := dialPolicy(t, addr)
		if _, err := pc.nc.Write(msg[:len(msg)/2]); err != nil {
			t.Fatal(err)
		}
		inflight = append(inflight, halfReq{pc, msg[len(msg)/2:], client, sender})
	}
	// An idle connection, never used: Shutdown closes it at once.
	idle := dialPolicy(t, addr)
	// The half requests count as in flight only once the server has read
	// their first bytes. This query's connection became readable after
	// theirs, so by the time it is answered the server's poller has woken
	// their goroutines as well; the pause lets those run up to holding the
	// connection busy. It orders events, it measures nothing.
	want(t, "ordering query", query(t, addr, rcpt("192.0.2.99", "x@sender.example", "bob@example.net", true)),
		greylisted(300), "greylist", "new_triplet")
	time.Sleep(300 * time.Millisecond)

	signalled.Store(true)
	srv.signal(t, syscall.SIGTERM)
	srv.waitLog(t, shuttingDownRe, logTimeout)

	for _, h := range inflight {
		h.pc.nc.SetDeadline(time.Now().Add(ioTimeout))
		if _, err := h.pc.nc.Write(h.rest); err != nil {
			t.Fatalf("in-flight request from %s: completing it after SIGTERM: %v", h.client, err)
		}
		resp, err := postfixpolicy.ReadResponse(h.pc.br, 0)
		if err != nil {
			t.Fatalf("in-flight request from %s was not answered during the drain: %v", h.client, err)
		}
		want(t, "in-flight request "+h.client, resp, greylisted(300), "greylist", "new_triplet")
		h.pc.expectClosed(t, "in-flight connection after its answer")
	}
	idle.expectClosed(t, "idle connection")

	if code := srv.wait(t); code != 0 {
		t.Fatalf("tempfail exited %d after SIGTERM, want 0:\n%s", code, srv.log.String())
	}
	srv.waitLog(t, stoppedRe, logTimeout)
	for range busy {
		r := <-results
		switch {
		case r.early:
			t.Errorf("a busy connection failed before SIGTERM after %d answers: %v", r.answered, r.err)
		case !closedByServer(r.err):
			t.Errorf("a busy connection ended with %v; want a clean close (or a reset) between answers", r.err)
		}
	}

	// Restart on the same data_dir: the committed triplets are known.
	addr2 := freeAddr(t)
	writeConfig(t, conf, addr2, data, storeConf)
	serveConfig(t, conf, addr2)
	known := []halfReq{{client: committed.ClientAddress, sender: committed.Sender}}
	for _, h := range append(known, inflight...) {
		client := h.client
		got := query(t, addr2, rcpt(client, h.sender, "bob@example.net", true))
		if got.Reason != "retry_too_early" || !tooEarlyRe.MatchString(got.Action) {
			t.Errorf("after restart, triplet from %s first seen before it: got action=%q reason=%q; want retry_too_early (the store was not flushed on shutdown?)",
				client, got.Action, got.Reason)
		}
	}
	want(t, "after restart, a triplet never seen", query(t, addr2, rcpt("203.0.113.70", "new@sender.example", "bob@example.net", true)),
		greylisted(300), "greylist", "new_triplet")
}

// closedByServer reports whether err is how a client sees the server close
// a persistent connection between requests: EOF before an answer, or a
// reset/broken pipe when the close crossed a request being written.
func closedByServer(err error) bool {
	return errors.Is(err, postfixpolicy.ErrNoResponse) && !strings.Contains(err.Error(), "EOF after") ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// expectClosed reads the connection to its end and fails the test if the
// server sent anything more or did not close it.
func (c *policyConn) expectClosed(t *testing.T, what string) {
	t.Helper()
	if n := c.br.Buffered(); n > 0 {
		b, _ := c.br.Peek(n)
		t.Errorf("%s: unexpected bytes from the server: %q", what, b)
	}
	readAllNoAnswer(t, c.nc, what)
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// quoteList renders paths as the inside of a TOML array.
func quoteList(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = fmt.Sprintf("%q", p)
	}
	return strings.Join(q, ", ")
}
