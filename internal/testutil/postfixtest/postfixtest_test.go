package postfixtest

import (
	"bufio"
	"errors"
	"net"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// policyServer is a minimal Postfix policy server (SMTPD_POLICY_README): it
// greylists the first request and lets later ones through with a header.
type policyServer struct {
	ln net.Listener

	mu       sync.Mutex
	requests []map[string]string
}

func startPolicyServer(t *testing.T) *policyServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ps := &policyServer{ln: ln}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			// smtpd keeps its policy connection open between requests
			// and closes it when it exits, which unblocks this reader.
			wg.Go(func() { ps.serve(c) })
		}
	})
	return ps
}

func (ps *policyServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		req := map[string]string{}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if line == "" {
				break
			}
			name, value, _ := strings.Cut(line, "=")
			req[name] = value
		}
		ps.mu.Lock()
		ps.requests = append(ps.requests, req)
		first := len(ps.requests) == 1
		ps.mu.Unlock()
		action := "PREPEND X-Greylist: delayed 2 seconds by test"
		if first {
			action = "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 2 seconds"
		}
		if _, err := c.Write([]byte("action=" + action + "\n\n")); err != nil {
			return
		}
	}
}

func (ps *policyServer) seen() []map[string]string {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]map[string]string(nil), ps.requests...)
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a real Postfix; skipped with -short")
	}
}

func TestGreylistRoundTrip(t *testing.T) {
	skipShort(t)
	t.Parallel()
	ps := startPolicyServer(t)
	pf := Start(t, Options{PolicyAddr: ps.ln.Addr().String()})

	args := []string{
		"--from", "alice@sender.test",
		"--to", "bob@example.net",
		"--header", "Subject: greylist round trip",
	}
	out, code := pf.Swaks(t, args...)
	if code == 0 || !regexp.MustCompile(`<\*\* +450 4\.2\.0 .*Greylisted, retry after 2 seconds`).MatchString(out) {
		t.Fatalf("first attempt: want 450 4.2.0 Greylisted and a failing exit code, got exit %d:\n%s", code, out)
	}

	out, code = pf.Swaks(t, args...)
	if code != 0 || !regexp.MustCompile(`<- +250 2\.0\.0 Ok: queued as`).MatchString(out) {
		t.Fatalf("second attempt: want 250 queued, got exit %d:\n%s", code, out)
	}

	msgs := pf.WaitMessages(t, 1, 10*time.Second)
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if got := m.Header.Get("X-Greylist"); got != "delayed 2 seconds by test" {
		t.Errorf("X-Greylist = %q, want %q\n%s", got, "delayed 2 seconds by test", m.Raw)
	}
	if got := m.Header.Get("Delivered-To"); got != "bob@example.net" {
		t.Errorf("Delivered-To = %q, want bob@example.net", got)
	}
	if got := m.Header.Get("Subject"); got != "greylist round trip" {
		t.Errorf("Subject = %q", got)
	}

	reqs := ps.seen()
	if len(reqs) != 2 {
		t.Fatalf("policy server saw %d requests, want 2: %v", len(reqs), reqs)
	}
	for _, r := range reqs {
		for k, want := range map[string]string{
			"request":        "smtpd_access_policy",
			"protocol_state": "RCPT",
			"client_address": "127.0.0.1",
			"sender":         "alice@sender.test",
			"recipient":      "bob@example.net",
		} {
			if r[k] != want {
				t.Errorf("policy request %s = %q, want %q", k, r[k], want)
			}
		}
	}

	// Delivery is complete once qmgr has removed the queue file.
	pf.WaitLog(t, regexp.MustCompile(`postfix/qmgr\[\d+\]: [0-9A-F]+: removed`), 10*time.Second)
	if q := pf.Postqueue(t); strings.TrimSpace(q) != "" {
		t.Errorf("queue not empty after delivery:\n%s", q)
	}
}

// With default_action=DUNNO an unreachable policy server must not block
// mail: this is the fail-open deployment the Options default selects.
func TestPolicyServerDownFailsOpen(t *testing.T) {
	skipShort(t)
	t.Parallel()
	// A port that was just free and is now closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	pf := Start(t, Options{PolicyAddr: addr})
	out, code := pf.Swaks(t, "--from", "alice@sender.test", "--to", "carol@example.net")
	if code != 0 || !strings.Contains(out, "250 2.0.0 Ok: queued as") {
		t.Fatalf("want the message accepted despite the dead policy server, got exit %d:\n%s", code, out)
	}
	pf.WaitLog(t, regexp.MustCompile(`warning: problem talking to server `+regexp.QuoteMeta(addr)), 5*time.Second)
	pf.WaitMessages(t, 1, 10*time.Second)

	// Stop must leave no Postfix process behind.
	pid := pf.masterPID()
	if pid == 0 {
		t.Fatal("no master pid file")
	}
	pf.Stop()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("master (pid %d) still exists after Stop: kill 0 = %v", pid, err)
	}
	select {
	case <-pf.readDone:
	default:
		t.Error("a Postfix process still holds the log pipe after Stop")
	}
}
