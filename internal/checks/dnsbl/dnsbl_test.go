package dnsbl

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/facts"
	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/resolver"
	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

// zone: 203.0.113.7 is on zen.test (with a TXT reason) and bb.test;
// .8 only on bb.test; .9 on zen.test and the allowlist wl.test; .12 gets
// Spamhaus's "public resolver" error code from zen.test; sf.test answers
// SERVFAIL and slow.test never answers for .7.
const zone = `
$TTL 300
test. IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
7.113.0.203.zen.test. IN A 127.0.0.4
7.113.0.203.zen.test. IN TXT "Listed by SBL, see https://check.example/203.0.113.7"
7.113.0.203.bb.test. IN A 127.0.0.2
8.113.0.203.bb.test. IN A 127.0.0.2
9.113.0.203.zen.test. IN A 127.0.0.2
9.113.0.203.wl.test. IN A 127.0.10.2
12.113.0.203.zen.test. IN A 127.255.255.254
7.113.0.203.sf.test. IN A 127.0.0.2
7.113.0.203.slow.test. IN A 127.0.0.2
`

type rig struct {
	e   *engine.Engine
	m   *Metrics
	log *bytes.Buffer
}

func newRig(t *testing.T, cfg Config) rig {
	t.Helper()
	srv := dnstest.Start(t, zone, dnstest.ServFail("7.113.0.203.sf.test"), dnstest.Drop("7.113.0.203.slow.test"))
	r, err := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: 300 * time.Millisecond, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	checker, err := cfg.NewChecker(r)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := LoadExemptions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	m := NewMetrics(nil)
	src := &facts.Source{R: r, DNSBL: checker, OnDNSBL: m.Observer(log)}
	e := engine.New(engine.Options{Checks: []engine.Check{New(cfg, ex, m)}, Facts: src, Logger: log, Timeout: 2 * time.Second})
	return rig{e: e, m: m, log: &buf}
}

func (r rig) ask(ip, sasl string) policy.Verdict {
	return r.e.Decide(context.Background(), &policy.Request{State: policy.StateRcpt, Instance: "i",
		Client: netip.MustParseAddr(ip), ClientName: "unknown", Sender: "a@example.org",
		Recipient: "b@example.net", SASLUsername: sasl})
}

func config(threshold int, sites ...string) Config {
	c := Defaults()
	c.Sites, c.Threshold = sites, threshold
	return c
}

func TestDecisions(t *testing.T) {
	std := []string{"zen.test*3", "bb.test=127.0.0.2*2", "wl.test=127.0.[0..255].[1..3]*-2"}
	noReason := config(3, std...)
	noReason.ReplyReason = false
	deferCfg := config(3, std...)
	deferCfg.Action, deferCfg.ReplyReason = "defer", false
	logCfg := config(3, std...)
	logCfg.Action = "log"
	exempt := config(3, std...)
	exempt.Clients = []string{"203.0.113.0/24"}
	const blocked = "550 5.7.1 Service unavailable; client [203.0.113.7] blocked using zen.test"
	tests := []struct {
		name    string
		cfg     Config
		ip      string
		sasl    string
		want    string
		outcome string
	}{
		{"listed, with the list's reason", config(3, std...), "203.0.113.7", "", blocked + "; Listed by SBL, see https://check.example/203.0.113.7", "listed"},
		{"listed", noReason, "203.0.113.7", "", blocked, "listed"},
		{"not listed", config(3, std...), "203.0.113.1", "", "DUNNO", "not_listed"},
		{"below the threshold", config(3, std...), "203.0.113.8", "", "DUNNO", "below_threshold"},
		{"at the threshold", config(2, std...), "203.0.113.8", "", "550 5.7.1 Service unavailable; client [203.0.113.8] blocked using bb.test", "listed"},
		{"one above the threshold", config(4, std...), "203.0.113.7", "", blocked + "; Listed by SBL, see https://check.example/203.0.113.7", "listed"},
		{"one below the threshold", config(6, append([]string{"other.test"}, std...)...), "203.0.113.7", "", "DUNNO", "below_threshold"},
		{"DNSWL weight brings the score under", config(3, std...), "203.0.113.9", "", "DUNNO", "below_threshold"},
		{"DNSWL only", config(1, "wl.test=127.0.[0..255].[1..3]*-2"), "203.0.113.9", "", "DUNNO", "allowlisted"},
		{"SERVFAIL list counts 0", config(3, "sf.test*3"), "203.0.113.7", "", "DUNNO", "dns_tempfail"},
		{"SERVFAIL list, another list rejects", config(3, "sf.test*3", "zen.test*3"), "203.0.113.7", "", blocked + "; Listed by SBL, see https://check.example/203.0.113.7", "listed"},
		{"list that never answers counts 0", config(3, "slow.test*3"), "203.0.113.7", "", "DUNNO", "dns_tempfail"},
		{"error code is no listing", config(3, std...), "203.0.113.12", "", "DUNNO", "not_listed"},
		{"defer", deferCfg, "203.0.113.7", "", "450 4.7.1 Service unavailable; client [203.0.113.7] blocked using zen.test", "listed"},
		{"log only", logCfg, "203.0.113.7", "", "DUNNO", "listed"},
		{"authenticated", config(3, std...), "203.0.113.7", "alice", "DUNNO", "exempt_sasl"},
		{"exempt client", exempt, "203.0.113.7", "", "DUNNO", "exempt_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.cfg)
			start := time.Now()
			v := r.ask(tt.ip, tt.sasl)
			if v.Line() != tt.want {
				t.Fatalf("got %q, want %q", v.Line(), tt.want)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("took %v", d)
			}
			if n := testutil.ToFloat64(r.m.Outcomes.WithLabelValues(tt.outcome)); n != 1 {
				t.Fatalf("outcome %s counted %v times", tt.outcome, n)
			}
			if v.Action == policy.Reply && (v.Check != Name || v.Reason != ReasonListed || !strings.Contains(v.Detail, "score")) {
				t.Fatalf("verdict %+v", v)
			}
		})
	}
}

// TestTempFailCountedNeverBlocks: a failing list is counted per list.
func TestTempFailCountedNeverBlocks(t *testing.T) {
	r := newRig(t, config(3, "sf.test*3", "slow.test*3"))
	if v := r.ask("203.0.113.7", ""); v.Line() != "DUNNO" {
		t.Fatalf("got %s", v.Line())
	}
	for _, l := range []string{"sf.test", "slow.test"} {
		if n := testutil.ToFloat64(r.m.TempFails.WithLabelValues(l)); n != 1 {
			t.Fatalf("%s: %v tempfails counted", l, n)
		}
	}
}

// TestErrorCodeWarnsOnce: Spamhaus's "query via a public resolver" code
// is logged once per list, counted every time.
func TestErrorCodeWarnsOnce(t *testing.T) {
	r := newRig(t, config(3, "zen.test*3"))
	for range 3 {
		if v := r.ask("203.0.113.12", ""); v.Line() != "DUNNO" {
			t.Fatalf("got %s", v.Line())
		}
	}
	if n := strings.Count(r.log.String(), "DNSBL answers not used"); n != 1 {
		t.Fatalf("%d warnings:\n%s", n, r.log.String())
	}
	if !strings.Contains(r.log.String(), "public/open resolver") {
		t.Fatalf("warning does not say why:\n%s", r.log.String())
	}
	if n := testutil.ToFloat64(r.m.Problems.WithLabelValues("zen.test", "error_code")); n != 3 {
		t.Fatalf("%v problems counted", n)
	}
}

func TestLogAction(t *testing.T) {
	cfg := config(3, "zen.test*3")
	cfg.Action = "log"
	r := newRig(t, cfg)
	r.ask("203.0.113.7", "")
	if !strings.Contains(r.log.String(), `would_answer="550 5.7.1 Service unavailable; client [203.0.113.7] blocked using zen.test`) {
		t.Fatalf("log:\n%s", r.log.String())
	}
}

func TestValidate(t *testing.T) {
	for name, c := range map[string]Config{
		"bad site":             config(3, "zen.test*x"),
		"threshold 0":          config(0, "zen.test*3"),
		"unreachable":          config(3, "zen.test", "bb.test"),
		"bad action":           func() Config { c := config(3, "zen.test*3"); c.Action = "drop"; return c }(),
		"class mismatch":       func() Config { c := config(3, "zen.test*3"); c.Code = 450; return c }(),
		"reply name, no site":  func() Config { c := config(3, "zen.test*3"); c.ReplyNames = map[string]string{"x.test": "x"}; return c }(),
		"reply name, no sites": func() Config { c := Defaults(); c.ReplyNames = map[string]string{"x.test": "x"}; return c }(),
		"two-line text":        func() Config { c := config(3, "zen.test*3"); c.Text = "a\nb"; return c }(),
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for name, c := range map[string]Config{
		"defaults (off)": Defaults(),
		"allowlist only": config(3, "list.dnswl.org=127.0.[0..255].[1..3]*-2"),
		"postfix paste":  config(1, "zen.spamhaus.org", "bl.spamcop.net"),
		"keyed": func() Config {
			c := config(3, "KEY.zen.dq.spamhaus.net*3")
			c.ReplyNames = map[string]string{"KEY.zen.dq.spamhaus.net": "zen"}
			return c
		}(),
	} {
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	var se *SiteError
	c := config(3, "zen.test*3", "bad..test")
	if err := c.Validate(); err == nil || !asSiteError(err, &se) || se.Index != 1 {
		t.Fatalf("site error %v", err)
	}
}

func asSiteError(err error, se **SiteError) bool {
	e, ok := err.(*SiteError)
	*se = e
	return ok
}
