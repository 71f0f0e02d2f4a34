package spf

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/facts"
	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/resolver"
	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

const zone = `
$TTL 300
test. IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
ok.test. IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
soft.test. IN TXT "v=spf1 ~all"
sf.test. IN MX 10 mx.test.
`

func engineFor(t *testing.T, cfg Config, checks ...engine.Check) *engine.Engine {
	t.Helper()
	srv := dnstest.Start(t, zone, dnstest.ServFail("sf.test"))
	r, _ := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: 300 * time.Millisecond, Attempts: 1})
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return engine.New(engine.Options{Checks: append([]engine.Check{New(cfg, nil)}, checks...), Facts: &facts.Source{R: r}})
}

func rcpt(ip, sender, inst string) *policy.Request {
	return &policy.Request{State: policy.StateRcpt, Instance: inst, Client: netip.MustParseAddr(ip),
		HeloName: "mail.ok.test", Sender: sender, Recipient: "b@example.net"}
}

func TestActions(t *testing.T) {
	cfg := Defaults()
	cfg.Receiver = "mx.example.net"
	cfg.AddHeader = false
	deferTemp := cfg
	deferTemp.TempError = "defer"
	deferSoft := cfg
	deferSoft.SoftFail = "defer"
	tests := []struct {
		name   string
		cfg    Config
		ip     string
		sender string
		want   string
	}{
		{"pass", cfg, "192.0.2.1", "a@ok.test", "DUNNO"},
		{"fail rejects", cfg, "198.51.100.1", "a@ok.test", "550 5.7.23 SPF fail: ok.test does not designate 198.51.100.1 as permitted sender"},
		{"softfail passes", cfg, "198.51.100.1", "a@soft.test", "DUNNO"},
		{"softfail deferred when asked", deferSoft, "198.51.100.1", "a@soft.test", "450 4.7.23 SPF softfail: soft.test does not designate 198.51.100.1 as permitted sender, try again later"},
		{"temperror passes", cfg, "192.0.2.1", "a@sf.test", "DUNNO"},
		{"temperror deferred when asked", deferTemp, "192.0.2.1", "a@sf.test", "451 4.7.24 SPF temperror: temporary DNS error evaluating SPF for sf.test, try again later"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := engineFor(t, tt.cfg).Decide(context.Background(), rcpt(tt.ip, tt.sender, "i"))
			if v.Line() != tt.want {
				t.Fatalf("got %q, want %q", v.Line(), tt.want)
			}
		})
	}
}

// greylistLike answers a PREPEND at the first RCPT, as greylisting does on
// a pass.
type greylistLike struct{}

func (greylistLike) Name() string { return "greylist" }
func (greylistLike) Check(_ context.Context, c *engine.Call) (policy.Verdict, error) {
	if c.Req.Recipient == "b@example.net" {
		return policy.Verdict{Action: policy.Prepend, Text: "X-Greylist: delayed 300 seconds by tempfail", Reason: "passed"}, nil
	}
	return policy.Verdict{}, nil
}

// TestReceivedSPFOnce: one Received-SPF per transaction; when greylisting
// takes the first RCPT's one PREPEND, the header comes with the next
// request (another RCPT or DATA).
func TestReceivedSPFOnce(t *testing.T) {
	cfg := Defaults()
	cfg.Receiver = "mx.example.net"
	e := engineFor(t, cfg)
	v := e.Decide(context.Background(), rcpt("192.0.2.1", "a@ok.test", "t1"))
	want := `PREPEND Received-SPF: pass (mx.example.net: domain of a@ok.test designates 192.0.2.1 as permitted sender) client-ip=192.0.2.1; envelope-from="a@ok.test"; helo="mail.ok.test"; receiver=mx.example.net; identity=mailfrom;`
	if v.Line() != want {
		t.Fatalf("first RCPT:\n got %s\nwant %s", v.Line(), want)
	}
	if v := e.Decide(context.Background(), rcpt("192.0.2.1", "a@ok.test", "t1")); v.Line() != "DUNNO" {
		t.Fatalf("second RCPT repeated the header: %s", v.Line())
	}

	e = engineFor(t, cfg, greylistLike{})
	if v := e.Decide(context.Background(), rcpt("192.0.2.1", "a@ok.test", "t2")); !strings.HasPrefix(v.Text, "X-Greylist:") {
		t.Fatalf("first RCPT: %s", v.Line())
	}
	data := rcpt("192.0.2.1", "a@ok.test", "t2")
	data.State, data.Recipient = policy.StateData, ""
	if v := e.Decide(context.Background(), data); !strings.HasPrefix(v.Text, "Received-SPF: pass") {
		t.Fatalf("DATA did not carry the queued Received-SPF: %s", v.Line())
	}
}

// TestDeferredRequestKeepsNoState: a request deferred by a later check
// (greylisting's first attempt, most requests of a busy MX) builds no
// Received-SPF and leaves nothing in the transaction table; the result is
// reused from the facts' cache by the transaction's next request.
func TestDeferredRequestKeepsNoState(t *testing.T) {
	cfg := Defaults()
	cfg.Receiver = "mx.example.net"
	e := engineFor(t, cfg, deferAll{})
	if v := e.Decide(context.Background(), rcpt("192.0.2.1", "a@ok.test", "t1")); v.Code != 450 {
		t.Fatalf("got %s", v.Line())
	}
	if n := e.Transactions(); n != 0 {
		t.Fatalf("%d transactions kept for a deferred request", n)
	}
}
