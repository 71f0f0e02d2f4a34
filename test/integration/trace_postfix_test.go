package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/testutil/postfixtest"
	"github.com/tempfail/tempfail/internal/testutil/smtpsink"
)

// traceMsg is the part of `tempfail trace --json` the tests read.
type traceMsg struct {
	QueueID       string    `json:"queue_id"`
	MessageID     string    `json:"message_id"`
	From          string    `json:"from"`
	Client        string    `json:"client"`
	Outcome       string    `json:"outcome"`
	FirstSeen     time.Time `json:"first_seen"`
	LastSeen      time.Time `json:"last_seen"`
	BounceQueueID string    `json:"bounce_queue_id"`
	BounceOf      string    `json:"bounce_of"`
	Incomplete    bool      `json:"incomplete"`
	Recipients    []struct {
		Address  string `json:"address"`
		Outcome  string `json:"outcome"`
		Attempts []struct {
			Time      time.Time `json:"time"`
			Relay     string    `json:"relay"`
			DSN       string    `json:"dsn"`
			Status    string    `json:"status"`
			Reply     string    `json:"reply"`
			Cause     string    `json:"cause"`
			Temporary bool      `json:"temporary"`
		} `json:"attempts"`
	} `json:"recipients"`
}

// TestTracePostfix: real logs made by real servers. A real Postfix relays
// to three scripted go-smtp destinations on loopback: greylist.test answers
// 450 then 250, slow.test always 450 (rate limit) until the message
// expires, reject.test 550 (and for one recipient 451 first, then 550: a
// deferral that ends in a permanent failure). The bounce notifications come
// back to the sender's local Maildir, and one RCPT to a foreign domain is
// refused with "Relay access denied". Then `tempfail trace --json` on
// Postfix's own log must reconstruct every message: its outcome, every
// attempt the destination saw (counted by the sink, so the number is exact
// even though it depends on timing), final DSN and status, the cause and
// temporary flag explain gives, and the bounce links. `tempfail report`
// must count the same, and its HTML page must render in headless Chromium
// without a console message.
func TestTracePostfix(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test with real Postfix: skipped in -short mode")
	}
	grey := smtpsink.Start(t, smtpsink.Script{
		"@greylist.test": {smtpsink.Greylist(), smtpsink.Accept()},
		"@ok.test":       {smtpsink.Accept()},
	})
	slow := smtpsink.Start(t, smtpsink.Script{
		"@slow.test": {{Code: 450, Enhanced: "4.7.1", Text: "Temporary delayed by rate limit for new clients, try later (2/h)"}},
	})
	rej := smtpsink.Start(t, smtpsink.Script{
		"@reject.test":     {smtpsink.Unknown()},
		"late@reject.test": {{Code: 451, Enhanced: "4.3.0", Text: "Temporary lookup failure"}, smtpsink.Unknown()},
	})
	const lifetime = 8 * time.Second
	pf := postfixtest.Start(t, postfixtest.Options{
		Relays: map[string]string{
			"greylist.test": grey.Addr(), "ok.test": grey.Addr(),
			"slow.test": slow.Addr(), "reject.test": rej.Addr(),
		},
		QueueRunDelay:        time.Second,
		MinimalBackoffTime:   time.Second,
		MaximalBackoffTime:   2 * time.Second,
		MaximalQueueLifetime: lifetime,
		BounceQueueLifetime:  lifetime,
	})

	const from = "alice@example.net"
	queued := regexp.MustCompile(`250 2\.0\.0 Ok: queued as ([0-9A-F]+)`)
	sendTo := func(subject string, to ...string) string {
		t.Helper()
		out, _ := pf.Swaks(t, "--from", from, "--to", strings.Join(to, ","), "--helo", "client.example.net",
			"--header", "Subject: "+subject, "--header", "Message-Id: <"+subject+"@client.example.net>", "--body", "trace test "+subject)
		m := queued.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("swaks to %v: not queued:\n%s", to, out)
		}
		return m[1]
	}
	start := time.Now()
	idGrey := sendTo("greylisted", "bob@greylist.test")
	idSlow := sendTo("expires", "carol@slow.test")
	idRej := sendTo("bounced", "dave@reject.test")
	idLate := sendTo("deferred-then-bounced", "late@reject.test")
	idTwo := sendTo("two-recipients", "frank@ok.test", "gina@greylist.test")
	out, _ := pf.Swaks(t, "--from", from, "--to", "x@elsewhere.test", "--helo", "client.example.net", "--quit-after", "RCPT")
	if !strings.Contains(out, "Relay access denied") {
		t.Fatalf("RCPT to a foreign domain was not refused:\n%s", out)
	}

	// Wait for the final outcomes: the queue empty and three bounce
	// notifications (expired, bounced, deferred-then-bounced) delivered.
	deadline := time.Now().Add(90 * time.Second)
	lastFlush := time.Now()
	for {
		q := strings.TrimSpace(pf.Postqueue(t))
		msgs := pf.Messages(t)
		if q == "" && len(msgs) >= 3 && strings.Count(pf.Log(), ": removed") >= 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no final outcome after 90s; queue:\n%s\n%d notifications", q, len(msgs))
		}
		time.Sleep(200 * time.Millisecond)
		if q != "" && time.Since(lastFlush) > 3*time.Second {
			// A queue run can find a file still locked by the delivery
			// agent that just deferred it ("skipped, still being
			// delivered"), and on a loaded machine nothing may scan
			// that queue again for a long time. A flush makes it retry.
			pf.Flush(t)
			lastFlush = time.Now()
		}
	}
	// Postfix keeps arrival times in whole seconds: an expiry may come up
	// to a second before lifetime has passed on our clock.
	if time.Since(start) < lifetime-time.Second {
		t.Fatalf("the queue emptied before the expiry could happen")
	}

	dir := t.TempDir()
	logFile := filepath.Join(dir, "maillog")
	writeFile(t, logFile, pf.Log()+"\n")
	if p := os.Getenv("TEMPFAIL_TRACE_LOG_OUT"); p != "" {
		// docs/trace.md's example comes from here
		writeFile(t, p, pf.Log()+"\n")
	}

	stdout, stderr, code := runCLI(t, "trace", "--json", logFile)
	if code != 0 {
		t.Fatalf("trace exit %d\n%s", code, stderr)
	}
	byID := map[string]*traceMsg{}
	var noqueue []*traceMsg
	sc := bufio.NewScanner(strings.NewReader(stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		m := &traceMsg{}
		if err := json.Unmarshal(sc.Bytes(), m); err != nil {
			t.Fatalf("trace --json line %q: %v", sc.Text(), err)
		}
		if m.QueueID == "" {
			noqueue = append(noqueue, m)
		} else {
			byID[m.QueueID] = m
		}
	}
	if len(byID) != 8 {
		t.Errorf("want 8 queued messages (5 sent + 3 notifications), got %d:\n%s", len(byID), stdout)
	}

	type want struct {
		outcome   string
		attempts  int    // exact, from the sink's count (+1 for the expiry)
		status    string // of the last attempt
		dsn       string // of the last attempt
		cause     string // of every non-successful attempt before the last
		lastCause string // of the last attempt, if it failed
	}
	check := func(id, rcpt string, w want) {
		t.Helper()
		m := byID[id]
		if m == nil {
			t.Errorf("%s (%s): not in trace output", id, rcpt)
			return
		}
		if m.From != from || m.MessageID == "" || m.Client == "" || m.FirstSeen.IsZero() || m.LastSeen.Before(m.FirstSeen) || m.Incomplete {
			t.Errorf("%s: header fields wrong: %+v", id, m)
		}
		for _, r := range m.Recipients {
			if r.Address != rcpt {
				continue
			}
			if r.Outcome != w.outcome {
				t.Errorf("%s <%s>: outcome %s, want %s", id, rcpt, r.Outcome, w.outcome)
			}
			if len(r.Attempts) != w.attempts {
				t.Errorf("%s <%s>: %d attempts, want %d: %+v", id, rcpt, len(r.Attempts), w.attempts, r.Attempts)
				return
			}
			for i, a := range r.Attempts {
				last := i == len(r.Attempts)-1
				if a.Time.Before(m.FirstSeen) || a.Time.After(m.LastSeen) {
					t.Errorf("%s <%s> attempt %d: time %v outside the message's life", id, rcpt, i, a.Time)
				}
				if !last {
					if a.Status != "deferred" || !a.Temporary || a.Cause != w.cause || !strings.HasPrefix(a.DSN, "4.") || !strings.Contains(a.Relay, "127.0.0.1") {
						t.Errorf("%s <%s> attempt %d: want a temporary %s deferral via 127.0.0.1, got %+v", id, rcpt, i, w.cause, a)
					}
					continue
				}
				if a.Status != w.status || a.DSN != w.dsn {
					t.Errorf("%s <%s> last attempt: status %s dsn %s, want %s %s (%+v)", id, rcpt, a.Status, a.DSN, w.status, w.dsn, a)
				}
				if w.status != "sent" && (a.Temporary || a.Cause != w.lastCause) {
					t.Errorf("%s <%s> last attempt: want final, cause %s; got %+v", id, rcpt, w.lastCause, a)
				}
			}
			return
		}
		t.Errorf("%s: no recipient <%s> in %+v", id, rcpt, m.Recipients)
	}
	n := func(s *smtpsink.Sink, rcpt string) int {
		k := s.Attempts(rcpt)
		if k == 0 {
			t.Fatalf("the sink never saw <%s>", rcpt)
		}
		return k
	}
	if n(grey, "bob@greylist.test") < 2 || n(slow, "carol@slow.test") < 2 {
		t.Fatalf("too few retries: greylist %d, slow %d", grey.Attempts("bob@greylist.test"), slow.Attempts("carol@slow.test"))
	}
	check(idGrey, "bob@greylist.test", want{"delivered", n(grey, "bob@greylist.test"), "sent", "2.0.0", "greylisting", ""})
	check(idSlow, "carol@slow.test", want{"expired", n(slow, "carol@slow.test") + 1, "expired", "4.7.1", "rate_limit", "rate_limit"})
	check(idRej, "dave@reject.test", want{"bounced", 1, "bounced", "5.1.1", "", "recipient_unknown"})
	check(idLate, "late@reject.test", want{"bounced", 2, "bounced", "5.1.1", "remote_relay_or_app_failure", "recipient_unknown"})
	check(idTwo, "frank@ok.test", want{"delivered", 1, "sent", "2.0.0", "", ""})
	check(idTwo, "gina@greylist.test", want{"delivered", n(grey, "gina@greylist.test"), "sent", "2.0.0", "greylisting", ""})
	for id, outcome := range map[string]string{idGrey: "delivered", idSlow: "expired", idRej: "bounced", idLate: "bounced", idTwo: "delivered"} {
		if m := byID[id]; m != nil && m.Outcome != outcome {
			t.Errorf("%s: message outcome %s, want %s", id, m.Outcome, outcome)
		}
	}
	// bounce notifications: linked both ways, delivered to the sender
	for _, id := range []string{idSlow, idRej, idLate} {
		m := byID[id]
		if m == nil {
			continue
		}
		nb := byID[m.BounceQueueID]
		if m.BounceQueueID == "" || nb == nil {
			t.Errorf("%s: no bounce notification linked (bounce_queue_id %q)", id, m.BounceQueueID)
			continue
		}
		if nb.BounceOf != id || nb.From != "" || nb.Outcome != "delivered" || len(nb.Recipients) != 1 || nb.Recipients[0].Address != from {
			t.Errorf("notification %s of %s: %+v", m.BounceQueueID, id, nb)
		}
	}
	if len(noqueue) != 1 || noqueue[0].Outcome != "rejected" || len(noqueue[0].Recipients) != 1 ||
		noqueue[0].Recipients[0].Address != "x@elsewhere.test" || noqueue[0].Recipients[0].Attempts[0].Cause != "auth_required" ||
		noqueue[0].Recipients[0].Attempts[0].DSN != "5.7.1" {
		t.Errorf("NOQUEUE relay reject: %+v", noqueue)
	}

	// filters select the same messages
	stdout, _, _ = runCLI(t, "trace", "--json", "--outcome", "expired", logFile)
	if strings.Count(stdout, "\n") != 1 || !strings.Contains(stdout, idSlow) {
		t.Errorf("--outcome expired: %s", stdout)
	}
	stdout, _, _ = runCLI(t, "trace", "--to", "@greylist.test", logFile)
	if !strings.Contains(stdout, idGrey) || !strings.Contains(stdout, idTwo) || strings.Contains(stdout, idRej) || !strings.Contains(stdout, "why: ") {
		t.Errorf("--to @greylist.test text output:\n%s", stdout)
	}

	// report: the same counts
	stdout, stderr, code = runCLI(t, "report", "--format", "json", "--stuck", "5s", logFile)
	if code != 0 {
		t.Fatalf("report exit %d: %s", code, stderr)
	}
	var rep struct {
		Totals struct {
			Received      int64 `json:"received"`
			Notifications int64 `json:"notifications"`
			Delivered     int64 `json:"delivered"`
			Deferred      int64 `json:"deferred"`
			Bounced       int64 `json:"bounced"`
			Expired       int64 `json:"expired"`
			Rejected      int64 `json:"rejected"`
			StillQueued   int64 `json:"still_queued"`
			RelayDenied   int64 `json:"relay_denied"`
		} `json:"totals"`
		Permanent struct {
			Count int64 `json:"count"`
		} `json:"permanent_after_deferral"`
		Stuck struct {
			Count int64 `json:"count"`
		} `json:"stuck"`
		Greylisting struct {
			Outgoing struct {
				Recipients int64 `json:"recipients"`
				GotThrough int64 `json:"got_through"`
			} `json:"outgoing"`
		} `json:"greylisting"`
		RateLimits struct {
			ByDestination []struct {
				Key   string `json:"key"`
				Count int64  `json:"count"`
			} `json:"by_destination"`
		} `json:"rate_limits"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report json: %v\n%s", err, stdout)
	}
	tt := rep.Totals
	if tt.Received != 5 || tt.Notifications != 3 || tt.Delivered != 6 || tt.Bounced != 2 || tt.Expired != 1 ||
		tt.Rejected != 1 || tt.StillQueued != 0 || tt.Deferred != 4 || tt.RelayDenied != 1 {
		t.Errorf("report totals: %+v", tt)
	}
	if rep.Permanent.Count != 2 || rep.Stuck.Count < 1 || rep.Greylisting.Outgoing.Recipients != 2 || rep.Greylisting.Outgoing.GotThrough != 2 {
		t.Errorf("report: permanent %d stuck %d greylisting %+v", rep.Permanent.Count, rep.Stuck.Count, rep.Greylisting.Outgoing)
	}
	if len(rep.RateLimits.ByDestination) != 1 || rep.RateLimits.ByDestination[0].Key != "slow.test" {
		t.Errorf("report rate limits: %+v", rep.RateLimits.ByDestination)
	}
	stdout, _, code = runCLI(t, "report", logFile)
	if code != 0 || !strings.Contains(stdout, "Deferrals that ended in a permanent failure: 2") {
		t.Errorf("text report:\n%s", stdout)
	}

	html := filepath.Join(dir, "report.html")
	if _, stderr, code := runCLI(t, "report", "--format", "html", "--out", html, logFile); code != 0 {
		t.Fatalf("report --format html: %d %s", code, stderr)
	}
	checkHTMLInChromium(t, html)
}

// checkHTMLInChromium opens a page in headless Chromium: the screenshot
// must be non-empty, the page's script must have run (it marks the root
// element data-ready), and Chromium must log no console message at all
// (errors, CSP violations, failed loads: the report logs nothing itself).
// The detector is first proven on a page with a deliberate error.
func checkHTMLInChromium(t *testing.T, page string) {
	t.Helper()
	chromium := ""
	for _, c := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(c); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium not found; run scripts/install-test-deps.sh")
		}
		t.Skip("chromium not found (scripts/install-test-deps.sh installs it); set CI=true to make this a failure")
	}
	dir := t.TempDir()
	run := func(page string, args ...string) (stdout, stderr string) {
		t.Helper()
		argv := append([]string{"--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage",
			"--no-first-run", "--user-data-dir=" + filepath.Join(dir, "profile")}, args...)
		argv = append(argv, "file://"+page)
		cmd := exec.Command(chromium, argv...)
		var o, e strings.Builder
		cmd.Stdout, cmd.Stderr = &o, &e
		done := make(chan error, 1)
		if err := cmd.Start(); err != nil {
			t.Fatalf("chromium: %v", err)
		}
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("chromium %v: %v\n%s", args, err, e.String())
			}
		case <-time.After(90 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("chromium %v: timed out", args)
		}
		return o.String(), e.String()
	}
	console := regexp.MustCompile(`(?m)^.*:CONSOLE[:(].*$`)
	shot := func(page, png string) string {
		t.Helper()
		_, stderr := run(page, "--enable-logging=stderr", "--v=0", "--screenshot="+png, "--window-size=1200,2400")
		if fi, err := os.Stat(png); err != nil || fi.Size() < 1000 {
			t.Fatalf("screenshot %s missing or empty (%v)\n%s", png, err, stderr)
		}
		return strings.Join(console.FindAllString(stderr, -1), "\n")
	}
	bad := filepath.Join(dir, "bad.html")
	writeFile(t, bad, `<!DOCTYPE html><html><head><meta charset="utf-8"><title>x</title></head><body><p>control</p><script>undefinedFunction();</script></body></html>`)
	if msgs := shot(bad, filepath.Join(dir, "bad.png")); !strings.Contains(msgs, "undefinedFunction") {
		t.Fatalf("the console-error detector does not see a deliberate error; Chromium logged: %q", msgs)
	}
	png := filepath.Join(dir, "report.png")
	if msgs := shot(page, png); msgs != "" {
		t.Errorf("the report logged to the console:\n%s", msgs)
	}
	if p := os.Getenv("TEMPFAIL_TRACE_SCREENSHOT_OUT"); p != "" {
		b, _ := os.ReadFile(png)
		writeFile(t, p, string(b))
	}
	dom, _ := run(page, "--dump-dom")
	if !strings.Contains(dom, `data-ready="1"`) || !strings.Contains(dom, "<svg") {
		t.Errorf("the report's script did not run or it has no chart; DOM:\n%.2000s", dom)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if u := regexp.MustCompile(`(?i)(https?:|//[a-z0-9.-]+\.[a-z]{2,}/|src=|href=)`).FindString(string(b)); u != "" {
		t.Errorf("the report refers to something outside itself: %q", u)
	}
}
