package report

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/explain"
	"github.com/tempfail/tempfail/internal/maillog"
	"github.com/tempfail/tempfail/internal/maillog/maillogtest"
)

var testExplainer *explain.Explainer

func build(t testing.TB, opt Options, files ...string) *Report {
	t.Helper()
	if testExplainer == nil {
		ex, err := explain.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		testExplainer = ex
	}
	var srcs []maillog.Source
	for _, f := range files {
		srcs = append(srcs, maillog.FileSource(f))
	}
	p := &maillog.Parser{Location: time.UTC, Reference: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)}
	r := maillog.NewReader(p, srcs...)
	rep := Build(r, testExplainer, opt, nil)
	if r.Err() != nil {
		t.Fatal(r.Err())
	}
	return rep
}

func row(t *testing.T, rows []Row, key string) Row {
	t.Helper()
	for _, r := range rows {
		if r.Key == key {
			return r
		}
	}
	t.Fatalf("no row %q in %+v", key, rows)
	return Row{}
}

// TestRealPostfix: the log written by real Postfix in
// test/integration/trace_postfix_test.go.
func TestRealPostfix(t *testing.T) {
	rep := build(t, Options{Stuck: 5 * time.Second}, "testdata/postfix-real.log")
	want := Totals{Received: 5, Notifications: 3, Delivered: 6, Deferred: 4, DeferredMessages: 4, DeferralAttempts: 12,
		Bounced: 2, Expired: 1, Rejected: 1, RelayDenied: 1}
	if rep.Totals != want {
		t.Errorf("totals\n got %+v\nwant %+v", rep.Totals, want)
	}
	if r := row(t, rep.DeferralsByCause, "rate_limit"); r.Count != 9 || r.Messages != 1 || r.WorstDelay < 8 {
		t.Errorf("rate_limit row %+v", r)
	}
	if r := row(t, rep.DeferralsByCause, "greylisting"); r.Count != 2 || r.Messages != 2 {
		t.Errorf("greylisting row %+v", r)
	}
	if r := row(t, rep.DeferralsByDomain, "slow.test"); r.Count != 9 {
		t.Errorf("slow.test row %+v", r)
	}
	if r := row(t, rep.DeferralsByRelay, "127.0.0.1[127.0.0.1]"); r.Count != 12 || r.Messages != 4 {
		t.Errorf("relay row %+v", r)
	}
	if rep.Permanent.Count != 2 || len(rep.Permanent.Failures) != 2 {
		t.Fatalf("permanent %+v", rep.Permanent)
	}
	for _, f := range rep.Permanent.Failures {
		switch f.Recipient {
		case "late@reject.test":
			if f.Deferrals != 1 || f.Outcome != "bounced" || f.DSN != "5.1.1" || f.Cause != "recipient_unknown" || f.FirstCause != "remote_relay_or_app_failure" {
				t.Errorf("late@: %+v", f)
			}
		case "carol@slow.test":
			if f.Deferrals != 9 || f.Outcome != "expired" || f.Cause != "rate_limit" || f.InQueue < 8 {
				t.Errorf("carol@: %+v", f)
			}
		default:
			t.Errorf("unexpected %+v", f)
		}
	}
	if rep.Stuck.Count != 1 || rep.Stuck.Messages[0].Outcome != "expired" {
		t.Errorf("stuck %+v", rep.Stuck)
	}
	g := rep.Greylisting.Outgoing
	if g.Recipients != 2 || g.GotThrough != 2 || g.Delay.Max <= 0 || g.Delay.Max > 5 {
		t.Errorf("greylisting out %+v", g)
	}
	if len(rep.RateLimits.ByDestination) != 1 || rep.RateLimits.ByDestination[0].Key != "slow.test" || rep.RateLimits.ByDestination[0].Count != 9 {
		t.Errorf("rate limits %+v", rep.RateLimits)
	}
	if len(rep.Auth.RelayDenied) != 1 || rep.Auth.RelayDenied[0].Count != 1 {
		t.Errorf("auth %+v", rep.Auth)
	}
	var total int64
	for _, b := range rep.Timeline.Buckets {
		for _, c := range b.Counts {
			total += c
		}
	}
	if total != 12 || len(rep.Timeline.Causes) != 3 || rep.Timeline.Causes[0] != "greylisting" {
		t.Errorf("timeline: %d deferrals, causes %v", total, rep.Timeline.Causes)
	}
	var first, after int64
	for _, b := range rep.DelayHist {
		first += b.FirstTry
		after += b.AfterDeferral
	}
	// delivered at once: frank@ok.test and the 3 notifications; after deferral: bob@, gina@
	if first != 4 || after != 2 {
		t.Errorf("delay histogram first %d after %d: %+v", first, after, rep.DelayHist)
	}
}

// TestIncoming: greylisting by this server, SASL failures, relay denied,
// rate-limited clients.
func TestIncoming(t *testing.T) {
	rep := build(t, Options{}, "testdata/incoming.log")
	in := rep.Greylisting.Incoming
	// the retry came from 198.51.100.8, the first try from .7: same /24
	if in.Rejects != 3 || in.Triplets != 2 || in.Passed != 1 || in.Pending != 1 || in.PassRate != 0.5 {
		t.Errorf("incoming greylisting %+v", in)
	}
	if in.Delay.Max != 340 {
		t.Errorf("pass delay %v, want 340s (09:00:01 to 09:05:41)", in.Delay.Max)
	}
	if rep.Totals.SASLFailures != 3 || len(rep.Auth.SASLFailures) != 2 || rep.Auth.SASLFailures[0].Key != "unknown[192.0.2.66]" || rep.Auth.SASLFailures[0].Count != 2 {
		t.Errorf("sasl %+v", rep.Auth.SASLFailures)
	}
	if rep.Totals.RelayDenied != 1 || rep.Auth.RelayDenied[0].Key != "laptop.example.net[198.51.100.20]" {
		t.Errorf("relay denied %+v", rep.Auth.RelayDenied)
	}
	if len(rep.RateLimits.ByClient) != 1 || rep.RateLimits.ByClient[0].Key != "unknown[192.0.2.99]" {
		t.Errorf("rate-limited clients %+v", rep.RateLimits.ByClient)
	}
	if rep.Totals.Rejected != 5 || rep.Totals.Received != 1 || rep.Totals.Delivered != 1 {
		t.Errorf("totals %+v", rep.Totals)
	}
	// Tables of events that belong to no message have no messages column
	// (it could only ever say 0).
	var b strings.Builder
	if err := WriteText(&b, rep); err != nil {
		t.Fatal(err)
	}
	txt := b.String()
	i := strings.Index(txt, "SASL authentication failures")
	if i < 0 || !strings.Contains(txt[i:], "client") || strings.Contains(txt[i:], "messages") {
		t.Errorf("SASL table:\n%s", txt[max(i, 0):])
	}
}

// TestTraceTestdata: the correlator's test logs (Exim included) all in one.
func TestTraceTestdata(t *testing.T) {
	files, _ := filepath.Glob("../trace/testdata/*.log")
	rep := build(t, Options{}, files...)
	if r := row(t, rep.DeferralsByCause, "timeout"); r.Count != 2 || r.Messages != 1 {
		t.Errorf("timeout %+v", r)
	}
	// Postfix and Exim name the same relay alike
	if r := row(t, rep.DeferralsByRelay, "mx.recipient.com[192.0.2.25]"); r.Count != 2 || r.Messages != 2 {
		t.Errorf("relay %+v", r)
	}
	if rep.Permanent.Count != 1 || rep.Permanent.Failures[0].Recipient != "order@arobor.ru" {
		t.Errorf("permanent %+v", rep.Permanent)
	}
}

// TestOutputs: the three renderings of one report.
func TestOutputs(t *testing.T) {
	rep := build(t, Options{Stuck: 5 * time.Second}, "testdata/postfix-real.log", "testdata/incoming.log")
	var txt, js, html bytes.Buffer
	if err := WriteText(&txt, rep); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"Deferrals by cause", "rate_limit", "Deferrals that ended in a permanent failure: 2", "late@reject.test", "pass rate 50%", "unknown[192.0.2.66]"} {
		if !strings.Contains(txt.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, txt.String())
		}
	}
	if err := json.NewEncoder(&js).Encode(rep); err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"totals", "deferrals_by_cause", "deferrals_by_domain", "deferrals_by_relay", "stuck", "permanent_after_deferral", "greylisting", "rate_limits", "auth", "deferral_timeline", "delivery_delay_histogram"} {
		if _, ok := back[k]; !ok {
			t.Errorf("json lacks %q", k)
		}
	}
	if err := WriteHTML(&html, rep, "test <report>"); err != nil {
		t.Fatal(err)
	}
	h := html.String()
	for _, s := range []string{"<svg", "Content-Security-Policy", "test &lt;report&gt;", "rate_limit", "late@reject.test"} {
		if !strings.Contains(h, s) {
			t.Errorf("html lacks %q", s)
		}
	}
	if strings.Contains(h, "http://") || strings.Contains(h, "https://") {
		t.Errorf("html refers to a URL")
	}
}

// TestBoundedMemory: the timeline and tables stay bounded on a long,
// varied log (50 000 generated messages, 2000 destination domains).
func TestBoundedMemory(t *testing.T) {
	var buf bytes.Buffer
	maillogtest.Generate(&buf, 50000, 3)
	if testExplainer == nil {
		testExplainer, _ = explain.New(nil)
	}
	r := maillog.NewReader(&maillog.Parser{Location: time.UTC}, maillog.ReaderSource("gen", &buf))
	rep := Build(r, testExplainer, Options{Limit: 10, MaxKeys: 100}, nil)
	if len(rep.Timeline.Buckets) > maxBuckets || len(rep.DeferralsByDomain) != 10 {
		t.Errorf("%d buckets, %d domain rows", len(rep.Timeline.Buckets), len(rep.DeferralsByDomain))
	}
	if rep.Totals.Received < 50000 || rep.Totals.DeferralAttempts == 0 || rep.Input.PeakOpen > 1000 {
		t.Errorf("totals %+v peak open %d", rep.Totals, rep.Input.PeakOpen)
	}
	if row(t, rep.DeferralsByCause, "greylisting").Count == 0 {
		t.Errorf("no greylisting in %+v", rep.DeferralsByCause)
	}
}

func TestDur(t *testing.T) {
	for s, want := range map[float64]string{0: "0s", 0.03: "0.03s", 1.2: "1.2s", 12: "12s", 301: "5m01s", 3 * 3600: "3h00m", 307136: "3d13h"} {
		if got := Dur(s); got != want {
			t.Errorf("Dur(%v) = %q, want %q", s, got, want)
		}
	}
}
