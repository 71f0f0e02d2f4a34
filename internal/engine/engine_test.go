package engine

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tempfail/tempfail/internal/policy"
)

// fn is a check made of a function.
type fn struct {
	name string
	f    func(ctx context.Context, c *Call) (policy.Verdict, error)
}

func (f fn) Name() string                                               { return f.name }
func (f fn) Check(ctx context.Context, c *Call) (policy.Verdict, error) { return f.f(ctx, c) }

func answer(name string, v policy.Verdict) Check {
	return fn{name, func(context.Context, *Call) (policy.Verdict, error) { return v, nil }}
}

func rcpt() *policy.Request {
	return &policy.Request{State: policy.StateRcpt, Instance: "i1", ClientAddress: "192.0.2.1"}
}

func TestChainOrderAndSoftVerdicts(t *testing.T) {
	defer450 := policy.Verdict{Action: policy.Reply, Code: 450, Enhanced: "4.7.1", Text: "later"}
	tests := []struct {
		name          string
		chain         []Check
		want          string
		check, reason string
	}{
		{"nobody has an opinion", []Check{answer("a", policy.Verdict{}), answer("b", policy.Verdict{})}, "DUNNO", "", ""},
		{"first final answer wins", []Check{answer("a", defer450), answer("b", policy.Verdict{Action: policy.Reject})}, "450 4.7.1 later", "a", ""},
		{"soft answer kept when nobody decides", []Check{answer("a", policy.Verdict{Reason: "exempt"}), answer("b", policy.Verdict{})}, "DUNNO", "a", "exempt"},
		{"prepend beats a plain dunno reason", []Check{answer("a", policy.Verdict{Reason: "x"}), answer("b", policy.Verdict{Action: policy.Prepend, Text: "X-H: 1"})}, "PREPEND X-H: 1", "b", ""},
		{"a later final answer overrides a prepend", []Check{answer("a", policy.Verdict{Action: policy.Prepend, Text: "X-H: 1"}), answer("b", defer450)}, "450 4.7.1 later", "b", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := New(Options{Checks: tt.chain})
			v := e.Decide(context.Background(), rcpt())
			if v.Line() != tt.want || v.Check != tt.check || v.Reason != tt.reason {
				t.Fatalf("got %q check=%q reason=%q; want %q %q %q", v.Line(), v.Check, v.Reason, tt.want, tt.check, tt.reason)
			}
		})
	}
}

func TestInternalTroubleAnswersOnError(t *testing.T) {
	tests := []struct {
		name, kind string
		c          Check
	}{
		{"store error", "error", fn{"bad", func(context.Context, *Call) (policy.Verdict, error) {
			return policy.Verdict{}, errors.New("store: connection refused")
		}}},
		{"panic", "panic", fn{"bad", func(context.Context, *Call) (policy.Verdict, error) {
			var m map[string]int
			m["x"]++
			return policy.Verdict{}, nil
		}}},
		{"deadline, check waits on ctx", "deadline", fn{"bad", func(ctx context.Context, c *Call) (policy.Verdict, error) {
			<-ctx.Done()
			return policy.Verdict{}, ctx.Err()
		}}},
		{"deadline, check answers late", "deadline", fn{"bad", func(ctx context.Context, c *Call) (policy.Verdict, error) {
			time.Sleep(80 * time.Millisecond)
			return policy.Verdict{Action: policy.Reject}, nil
		}}},
	}
	for _, tt := range tests {
		for _, onErr := range []policy.Verdict{{}, {Action: policy.Reply, Code: 451, Enhanced: "4.3.0", Text: "try later"}} {
			t.Run(tt.name+"/"+onErr.Line(), func(t *testing.T) {
				m := NewMetrics(nil)
				e := New(Options{
					Checks:  []Check{answer("first", policy.Verdict{Reason: "ok"}), tt.c, answer("never", policy.Verdict{Action: policy.Reject})},
					Timeout: 50 * time.Millisecond, OnError: onErr, Metrics: m,
				})
				v := e.Decide(context.Background(), rcpt())
				if v.Line() != onErr.Line() {
					t.Fatalf("got %q, want on_error %q", v.Line(), onErr.Line())
				}
				if v.Reason != "internal_"+tt.kind {
					t.Fatalf("reason %q", v.Reason)
				}
				if v.Check != "bad" {
					t.Fatalf("check %q", v.Check)
				}
				if n := testutil.ToFloat64(m.Errors.WithLabelValues(v.Check, tt.kind)); n != 1 {
					t.Fatalf("error counter = %v", n)
				}
				if v.Action == policy.Reject || (v.Action == policy.Reply && v.Code >= 500) {
					t.Fatal("internal trouble produced a permanent rejection")
				}
			})
		}
	}
}

func TestTransactionState(t *testing.T) {
	var seen []any
	e := New(Options{Checks: []Check{fn{"t", func(ctx context.Context, c *Call) (policy.Verdict, error) {
		if c.Txn == nil {
			seen = append(seen, nil)
			return policy.Verdict{}, nil
		}
		seen = append(seen, c.Txn.Get("t"))
		c.Txn.Update("t", func(old any) any {
			n, _ := old.(int)
			return n + 1
		})
		return policy.Verdict{}, nil
	}}}})
	ask := func(inst string, st policy.State) {
		e.Decide(context.Background(), &policy.Request{State: st, Instance: inst})
	}
	ask("a", policy.StateRcpt)
	ask("a", policy.StateRcpt)
	ask("b", policy.StateRcpt)
	ask("a", policy.StateEndOfMessage) // ends transaction a
	ask("a", policy.StateRcpt)         // a new transaction reusing the id
	ask("", policy.StateRcpt)
	want := []any{nil, 1, nil, 2, nil, nil}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("request %d saw %v, want %v (all: %v)", i, seen[i], want[i], seen)
		}
	}
}

func TestTxnTableForgetsIdleTransactions(t *testing.T) {
	tt := newTxnTable(time.Minute, 1000)
	now := time.Unix(1000, 0)
	a := tt.get("a", now)
	if tt.lookup("nobody", now) != nil {
		t.Fatal("lookup created state")
	}
	if tt.get("a", now.Add(90*time.Second)) != a {
		t.Fatal("transaction lost after one rotation")
	}
	if tt.get("a", now.Add(4*time.Minute)) == a {
		t.Fatal("idle transaction kept after two rotations")
	}
	// The size bound rotates early.
	small := newTxnTable(time.Hour, 2)
	for _, id := range []string{"x", "y", "z", "w", "v"} {
		small.get(id, now)
	}
	if n := small.len(); n > 4 {
		t.Fatalf("table holds %d transactions, bound is 2 per generation", n)
	}
}

func TestReloadSwapsChain(t *testing.T) {
	e := New(Options{Checks: []Check{answer("old", policy.Verdict{Action: policy.Reject})}})
	e.Reload(Options{Checks: []Check{answer("new", policy.Verdict{Reason: "fine"})}})
	if v := e.Decide(context.Background(), rcpt()); v.Check != "new" {
		t.Fatalf("got %+v", v)
	}
}

func BenchmarkDecide(b *testing.B) {
	e := New(Options{Checks: []Check{answer("a", policy.Verdict{Reason: "x"})}})
	r := rcpt()
	b.ReportAllocs()
	for b.Loop() {
		e.Decide(context.Background(), r)
	}
}

func TestDeadlineCtx(t *testing.T) {
	c := withDeadline(context.Background(), time.Now().Add(30*time.Millisecond))
	if c.Err() != nil {
		t.Fatal("expired early")
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done never closed")
	}
	if c.Err() != context.DeadlineExceeded {
		t.Fatalf("Err = %v", c.Err())
	}
	c.cancel()

	parent, cancel := context.WithCancel(context.Background())
	c = withDeadline(parent, time.Now().Add(time.Hour))
	done := c.Done()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("parent cancellation not propagated")
	}
	if c.Err() == nil {
		t.Fatal("Err nil after parent cancel")
	}

	c = withDeadline(context.Background(), time.Now().Add(time.Hour))
	c.cancel()
	if c.Err() != context.Canceled {
		t.Fatalf("Err after cancel = %v", c.Err())
	}
	select {
	case <-c.Done():
	default:
		t.Fatal("Done open after cancel")
	}
}

// TestTrustCarriedThroughTransaction: a RCPT request that established the
// client as trusted makes the DATA and END-OF-MESSAGE requests of the same
// transaction start trusted; other transactions and dry runs do not.
func TestTrustCarriedThroughTransaction(t *testing.T) {
	type seen struct {
		trusted bool
		by      string
	}
	var got []seen
	e := New(Options{Checks: []Check{
		fn{"trust", func(ctx context.Context, c *Call) (policy.Verdict, error) {
			if c.Req.State == policy.StateRcpt && c.Req.Recipient == "known@example.net" {
				c.Facts.Trusted, c.Facts.TrustedBy = true, "trust:known"
			}
			return policy.Verdict{}, nil
		}},
		fn{"reader", func(ctx context.Context, c *Call) (policy.Verdict, error) {
			got = append(got, seen{c.Facts.Trusted, c.Facts.TrustedBy})
			return policy.Verdict{}, nil
		}},
	}})
	ask := func(inst string, st policy.State, rcpt string, dry bool) seen {
		e.Decide(context.Background(), &policy.Request{State: st, Instance: inst, Recipient: rcpt, DryRun: dry})
		return got[len(got)-1]
	}
	if s := ask("a", policy.StateRcpt, "new@example.net", false); s.trusted {
		t.Fatal("untrusted RCPT trusted")
	}
	ask("a", policy.StateRcpt, "known@example.net", false)
	if s := ask("a", policy.StateRcpt, "new2@example.net", false); !s.trusted || s.by != "trust:known" {
		t.Fatalf("later RCPT of the transaction: %+v", s)
	}
	if s := ask("a", policy.StateData, "", false); !s.trusted {
		t.Fatalf("DATA: %+v", s)
	}
	if s := ask("a", policy.StateEndOfMessage, "", false); !s.trusted || s.by != "trust:known" {
		t.Fatalf("END-OF-MESSAGE: %+v", s)
	}
	// The transaction ended: the id reused starts untrusted.
	if s := ask("a", policy.StateEndOfMessage, "", false); s.trusted {
		t.Fatalf("trust outlived its transaction: %+v", s)
	}
	if s := ask("b", policy.StateData, "", false); s.trusted {
		t.Fatalf("trust leaked to another transaction: %+v", s)
	}
	// A dry run does not record trust.
	ask("c", policy.StateRcpt, "known@example.net", true)
	if s := ask("c", policy.StateEndOfMessage, "", false); s.trusted {
		t.Fatalf("a dry run recorded trust: %+v", s)
	}
}

type explainer struct {
	fn
	explained *int
}

func (x explainer) Explain(ctx context.Context, c *Call) {
	*x.explained++
	c.Notes.Add("limit", x.name)
}

// TestNotesAndExplain: checks after the one that ended the chain explain
// themselves only when the request asked for notes.
func TestNotesAndExplain(t *testing.T) {
	n := 0
	e := New(Options{Checks: []Check{
		answer("first", policy.Verdict{Action: policy.Defer}),
		explainer{fn{"second", func(ctx context.Context, c *Call) (policy.Verdict, error) {
			t.Fatal("ran after a final verdict")
			return policy.Verdict{}, nil
		}}, &n},
	}})
	e.Decide(context.Background(), rcpt())
	if n != 0 {
		t.Fatal("explained without being asked")
	}
	ctx, notes := WithNotes(context.Background())
	e.Decide(ctx, rcpt())
	if a := notes.Attrs(); n != 1 || len(a) != 1 || a[0] != (policy.Attr{Name: "limit", Value: "second"}) {
		t.Fatalf("n=%d notes=%+v", n, a)
	}
}
