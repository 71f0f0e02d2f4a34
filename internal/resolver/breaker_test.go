package resolver

import (
	"context"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

func TestBreaker(t *testing.T) {
	srv := dnstest.Start(t, testZone, dnstest.Drop(dnstest.AnyName))
	r, clk := newTest(t, Config{Timeout: 100 * time.Millisecond, Attempts: 1, ServFailTTL: -1}, srv)
	ctx := context.Background()
	look := func(name string) Result {
		t.Helper()
		res, err := r.LookupMX(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return res.Result
	}
	// Silence on three lookups in a row trips it...
	for i, name := range []string{"a.example.test", "b.example.test", "c.example.test"} {
		if res := look(name); res.Status != TempFail || res.Reason != ReasonTimeout {
			t.Fatalf("lookup %d: %v %v, want a timeout", i, res.Status, res.Reason)
		}
	}
	// ...then lookups fail at once, without a query.
	sent := srv.TotalQueries()
	if res := look("d.example.test"); res.Status != TempFail || res.Reason != ReasonUnreachable {
		t.Fatalf("open breaker: %v %v", res.Status, res.Reason)
	}
	if srv.TotalQueries() != sent {
		t.Fatal("a query went out while the breaker was open")
	}
	if r.Stats().FastFails != 1 {
		t.Fatalf("FastFails = %d", r.Stats().FastFails)
	}
	// After the open period one probe goes out; still silent: open again.
	clk.Add(breakerOpen)
	if res := look("e.example.test"); res.Reason != ReasonTimeout {
		t.Fatalf("probe: %v", res.Reason)
	}
	if res := look("f.example.test"); res.Reason != ReasonUnreachable {
		t.Fatalf("after a failed probe: %v", res.Reason)
	}
	// The servers come back: the next probe closes it.
	srv.Apply(dnstest.Heal(dnstest.AnyName))
	clk.Add(breakerOpen)
	if res := look("example.test"); res.Status != Found {
		t.Fatalf("probe after healing: %v %v", res.Status, res.Reason)
	}
	if res := look("www.example.test"); res.Reason == ReasonUnreachable {
		t.Fatal("breaker still open after a good probe")
	}
}

func TestBreakerIgnoresServFail(t *testing.T) {
	srv := dnstest.Start(t, testZone, dnstest.ServFail(dnstest.AnyName))
	r, _ := newTest(t, Config{Attempts: 1, ServFailTTL: -1}, srv)
	for i := 0; i < 2*breakerTrips; i++ {
		res, _ := r.LookupMX(context.Background(), "example.test")
		if res.Reason != ReasonServFail {
			t.Fatalf("lookup %d: %v, want servfail (a replying server never trips the breaker)", i, res.Reason)
		}
	}
}
