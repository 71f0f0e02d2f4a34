package reversedns

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/facts"
	"github.com/tempfail/tempfail/internal/lists"
	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/resolver"
	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

const zone = `
$TTL 300
test. IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
good.test. IN A 192.0.2.10
liar.test. IN A 192.0.2.99
sf.test. IN A 192.0.2.12
in-addr.arpa. IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300
10.2.0.192.in-addr.arpa. IN PTR good.test.
11.2.0.192.in-addr.arpa. IN PTR liar.test.
12.2.0.192.in-addr.arpa. IN PTR sf.test.
`

func TestDecisions(t *testing.T) {
	srv := dnstest.Start(t, zone, dnstest.ServFail("sf.test"))
	r, _ := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: 300 * time.Millisecond, Attempts: 1})
	enforce := Defaults()
	enforce.Mode = "enforce"
	exempt, _ := lists.NewClientList([]string{"192.0.2.13"})
	tests := []struct {
		name, ip, clientName, sasl string
		cfg                        Config
		ex                         *lists.ClientList
		want, reason               string
	}{
		{"postfix verified", "192.0.2.200", "mail.example.org", "", enforce, nil, "DUNNO", ""},
		{"confirmed by own lookup", "192.0.2.10", "unknown", "", enforce, nil, "DUNNO", ""},
		{"no ptr", "192.0.2.13", "unknown", "", enforce, nil, "450 4.7.1 cannot find your reverse hostname, [192.0.2.13]", ReasonNoPTR},
		{"mismatch", "192.0.2.11", "unknown", "", enforce, nil, "450 4.7.25 reverse DNS does not match, [192.0.2.11]", ReasonMismatch},
		{"tempfail passes", "192.0.2.12", "unknown", "", enforce, nil, "DUNNO", ""},
		{"warn mode: no answer, logged", "192.0.2.13", "unknown", "", Defaults(), nil, "DUNNO", ""},
		{"sasl exempt", "192.0.2.13", "unknown", "alice", enforce, nil, "DUNNO", ""},
		{"client list exempt", "192.0.2.13", "unknown", "", enforce, exempt, "DUNNO", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := engine.New(engine.Options{Checks: []engine.Check{New(tt.cfg, tt.ex, nil)}, Facts: &facts.Source{R: r}})
			v := e.Decide(context.Background(), &policy.Request{State: policy.StateRcpt, Instance: "i",
				Client: netip.MustParseAddr(tt.ip), ClientName: tt.clientName, Sender: "a@b.test", SASLUsername: tt.sasl})
			if v.Line() != tt.want || v.Reason != tt.reason {
				t.Fatalf("got %q %q, want %q %q", v.Line(), v.Reason, tt.want, tt.reason)
			}
		})
	}
}
