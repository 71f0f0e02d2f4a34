package senderdomain

import (
	"context"
	"net/netip"
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
mx.test. IN MX 10 mail.mx.test.
aonly.test. IN A 192.0.2.26
nullmx.test. IN MX 0 .
sf.test. IN MX 10 mail.mx.test.
`

func TestDecisions(t *testing.T) {
	srv := dnstest.Start(t, zone, dnstest.ServFail("sf.test"))
	r, _ := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: 300 * time.Millisecond, Attempts: 1})
	defer550 := Defaults()
	defer550.Code, defer550.Enhanced = 550, "5.1.8"
	onTemp := Defaults()
	onTemp.OnTempfail = "defer"
	tests := []struct {
		name   string
		cfg    Config
		sender string
		sasl   string
		want   string
		reason string
	}{
		{"mx", Defaults(), "a@mx.test", "", "DUNNO", ""},
		{"a only", Defaults(), "a@aonly.test", "", "DUNNO", ""},
		{"nxdomain", Defaults(), "a@nowhere.test", "", "450 4.1.8 Domain not found", ReasonNotFound},
		{"nxdomain, 550 configured", defer550, "a@nowhere.test", "", "550 5.1.8 Domain not found", ReasonNotFound},
		{"null mx", Defaults(), "a@nullmx.test", "", "550 5.7.27 Domain does not accept mail", ReasonNullMX},
		{"servfail passes", Defaults(), "a@sf.test", "", "DUNNO", ReasonDNSTempfail},
		{"servfail deferred when asked", onTemp, "a@sf.test", "", "450 4.1.8 Domain not found", ReasonDNSTempfail},
		{"null sender", Defaults(), "", "", "DUNNO", ""},
		{"authenticated", Defaults(), "a@nowhere.test", "alice", "DUNNO", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			e := engine.New(engine.Options{Checks: []engine.Check{New(tt.cfg, nil)}, Facts: &facts.Source{R: r}})
			v := e.Decide(context.Background(), &policy.Request{State: policy.StateRcpt, Instance: "i",
				Client: netip.MustParseAddr("192.0.2.1"), Sender: tt.sender, Recipient: "b@example.net", SASLUsername: tt.sasl})
			if v.Line() != tt.want || v.Reason != tt.reason {
				t.Fatalf("got %q %q, want %q %q", v.Line(), v.Reason, tt.want, tt.reason)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	c := Defaults()
	c.Code, c.Enhanced = 450, "5.1.8"
	if c.Validate() == nil {
		t.Fatal("class mismatch accepted")
	}
	c = Defaults()
	c.OnTempfail = "reject"
	if c.Validate() == nil {
		t.Fatal("on_tempfail reject accepted")
	}
}
