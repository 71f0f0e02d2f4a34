package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/config"
	"github.com/tempfail/tempfail/internal/duration"
	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/postfixpolicy"
	"github.com/tempfail/tempfail/internal/store"
	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

func start(t *testing.T, cfg *config.Config) *Daemon {
	t.Helper()
	level := new(slog.LevelVar)
	d, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), level)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Shutdown(context.Background()) })
	return d
}

func testConfig(t *testing.T) *config.Config {
	c := config.Defaults()
	c.DataDir = t.TempDir()
	c.Listen = []string{"127.0.0.1:0"}
	c.MetricsListen = "127.0.0.1:0"
	c.Greylist.Delay = duration.Duration(time.Second)
	c.Greylist.DefaultClients = false
	// DNS from a server on loopback, never the machine's resolver: every
	// sender domain the tests use exists (wildcard MX), nothing has SPF.
	c.DNS.Servers = []string{dnstest.Start(t, testZone).Addr()}
	return &c
}

const testZone = `
$TTL 300
example.org. IN SOA ns.example.org. hostmaster.example.org. 1 3600 600 86400 300
*.example.org. IN MX 10 mx.example.org.
example.org. IN MX 10 mx.example.org.
100.51.198.in-addr.arpa. IN SOA ns.example.org. hostmaster.example.org. 1 3600 600 86400 300
`

func ask(t *testing.T, addr string, sender string) postfixpolicy.Response {
	t.Helper()
	r, err := postfixpolicy.Query(context.Background(), addr, &policy.Request{
		Kind: postfixpolicy.RequestType, State: policy.StateRcpt, Instance: sender,
		ClientAddress: "198.51.100.7", Client: netip.MustParseAddr("198.51.100.7"),
		Sender: sender, Recipient: "bob@example.net"}, true)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestMetricsExposed: the /metrics endpoint carries what an operator
// graphs: decisions, latency, store operations and errors, and how long
// legitimate mail actually waited.
func TestMetricsExposed(t *testing.T) {
	d := start(t, testConfig(t))
	addr := d.Addrs()[0]
	if r := ask(t, addr, "alice@example.org"); r.Reason != "new_triplet" {
		t.Fatalf("first: %+v", r)
	}
	time.Sleep(1100 * time.Millisecond)
	if r := ask(t, addr, "alice@example.org"); r.Reason != "passed" {
		t.Fatalf("retry: %+v", r)
	}
	resp, err := http.Get("http://" + d.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := string(b)
	for _, want := range []string{
		`tempfail_decisions_total{action="DEFER_IF_PERMIT",check="greylist",reason="new_triplet"} 1`,
		`tempfail_decisions_total{action="PREPEND",check="greylist",reason="passed"} 1`,
		`tempfail_request_duration_seconds_count 2`,
		`tempfail_store_operation_duration_seconds_count{op="get"}`,
		`tempfail_greylist_delay_until_pass_seconds_count 1`,
		`tempfail_policy_connections_total`,
		`tempfail_policy_protocol_errors_total`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(body)
	}
}

// TestReloadKeepsServing: a reload swaps the chain while the listener and
// store stay; a bad list file fails the reload and keeps the old chain.
func TestReloadKeepsServing(t *testing.T) {
	cfg := testConfig(t)
	d := start(t, cfg)
	addr := d.Addrs()[0]
	nc := *cfg
	nc.Greylist.Clients = []string{"198.51.100.0/24"}
	if err := d.Reload(&nc); err != nil {
		t.Fatal(err)
	}
	if r := ask(t, addr, "x@example.org"); r.Reason != "exempt_client" {
		t.Fatalf("after reload: %+v", r)
	}
	bad := nc
	bad.Greylist.ClientFiles = []string{"/nonexistent/whitelist_clients"}
	if err := d.Reload(&bad); err == nil || !strings.Contains(err.Error(), "/nonexistent/whitelist_clients") {
		t.Fatalf("bad reload: %v", err)
	}
	if r := ask(t, addr, "y@example.org"); r.Reason != "exempt_client" {
		t.Fatalf("failed reload changed the chain: %+v", r)
	}
}

// failingGets makes every Get fail, as a store whose disk went away would.
type failingGets struct{ store.Store }

func (failingGets) Get(context.Context, string) ([]byte, time.Time, error) {
	return nil, time.Time{}, errors.New("input/output error")
}

// TestOnError: a store failure answers on_error (DUNNO by default, 451
// 4.3.0 with on_error = "defer"), never a 5xx, and is counted.
func TestOnError(t *testing.T) {
	wrapStore = func(s store.Store) store.Store { return failingGets{s} }
	defer func() { wrapStore = func(s store.Store) store.Store { return s } }()
	for _, tc := range []struct{ onError, action string }{
		{"dunno", "DUNNO"},
		{"defer", "451 4.3.0 Temporary policy service problem, try again later"},
	} {
		t.Run(tc.onError, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.OnError = tc.onError
			d := start(t, cfg)
			r := ask(t, d.Addrs()[0], "a@example.org")
			if r.Action != tc.action || r.Check != "greylist" || r.Reason != "internal_error" {
				t.Fatalf("got %+v, want %q from greylist/internal_error", r, tc.action)
			}
			resp, err := http.Get("http://" + d.MetricsAddr() + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(b), `tempfail_check_errors_total{check="greylist",kind="error"} 1`) {
				t.Errorf("error not counted")
			}
		})
	}
}

// TestRateLimitSurvivesRestart: rate-limit buckets live in memory
// (ratelimit.Local) and are written to the store on shutdown, so a restart
// does not hand a user a fresh quota.
func TestRateLimitSurvivesRestart(t *testing.T) {
	cfg := testConfig(t)
	err := config.Parse("test.toml", []byte(`
[ratelimit]
[[ratelimit.limit]]
name = "users"
key = ["sasl_username"]
count = "requests"
state = "rcpt"
rate = "2/h"
scope = "authenticated"
action = "defer"
`), cfg)
	if err != nil {
		t.Fatal(err)
	}
	send := func(addr string) postfixpolicy.Response {
		t.Helper()
		r, err := postfixpolicy.Query(context.Background(), addr, &policy.Request{
			Kind: postfixpolicy.RequestType, State: policy.StateRcpt,
			ClientAddress: "198.51.100.7", Client: netip.MustParseAddr("198.51.100.7"),
			Sender: "alice@example.org", Recipient: "bob@example.net", SASLUsername: "alice"}, false)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	level := new(slog.LevelVar)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := New(cfg, quiet, level)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if r := send(d.Addrs()[0]); r.Action != "DUNNO" {
			t.Fatalf("request %d within the limit: %+v", i+1, r)
		}
	}
	if err := d.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	d = start(t, cfg)
	if r := send(d.Addrs()[0]); !strings.HasPrefix(r.Action, "450") {
		t.Fatalf("third request after a restart: %+v, want 450 (the quota was spent before it)", r)
	}
}
