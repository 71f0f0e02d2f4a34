package spf

import (
	"context"
	"fmt"
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

// BenchmarkSPFCheckWarm is the SPF check per request as bench/policyload
// drives it: every request a new transaction, random clients and sender
// domains (so the exact result cache rarely hits), the DNS answers cached,
// the request deferred by a later check (no Received-SPF sent).
func BenchmarkSPFCheckWarm(b *testing.B) {
	var z strings.Builder
	z.WriteString("$TTL 3600\nexample. IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300\n")
	const domains = 200
	for i := range domains {
		fmt.Fprintf(&z, "d%d.example. IN TXT \"v=spf1 ip4:0.0.0.0/0 ip6:::/0 -all\"\n", i)
	}
	srv := dnstest.Start(b, z.String())
	r, _ := resolver.New(resolver.Config{Servers: []string{srv.Addr()}, Timeout: time.Second, Attempts: 1})
	cfg := Defaults()
	e := engine.New(engine.Options{Checks: []engine.Check{New(cfg, nil), deferAll{}}, Facts: &facts.Source{R: r}})
	reqs := make([]*policy.Request, 4096)
	for i := range reqs {
		reqs[i] = &policy.Request{State: policy.StateRcpt, Instance: fmt.Sprintf("i%d", i),
			Client:   netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1}),
			HeloName: "host.example", Sender: fmt.Sprintf("u%d@d%d.example", i, i%domains), Recipient: "b@example.net"}
	}
	for _, q := range reqs[:domains] { // warm the resolver's cache
		e.Decide(context.Background(), q)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		q := *reqs[i%len(reqs)]
		q.Instance = fmt.Sprint(i)
		q.Client = netip.AddrFrom4([4]byte{11, byte(i >> 16), byte(i >> 8), byte(i)})
		if v := e.Decide(context.Background(), &q); v.Action != policy.Reply {
			b.Fatal(v.Line())
		}
		i++
	}
}

type deferAll struct{}

func (deferAll) Name() string { return "greylist" }
func (deferAll) Check(context.Context, *engine.Call) (policy.Verdict, error) {
	return policy.Verdict{Action: policy.Reply, Code: 450, Enhanced: "4.2.0", Text: "Greylisted"}, nil
}
