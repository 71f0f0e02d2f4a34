package postfixpolicy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tempfail/tempfail/internal/policy"
)

func TestServerManyRequestsOneConnection(t *testing.T) {
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			ts := startServer(t, network, Options{}, echo)
			c := ts.dial(t)
			br := bufio.NewReader(c)
			const n = 200
			for i := range n {
				sender := fmt.Sprintf("s%d@example.com", i)
				if got := roundTrip(t, c, br, rcpt(sender)); got != echoed(sender) {
					t.Fatalf("request %d: got %q, want %q", i, got, echoed(sender))
				}
			}
			// Counted once written, so maybe just after the client read it.
			ts.waitMetric(t, n, "tempfail_policy_requests_total")
			if got := ts.metric(t, "tempfail_policy_connections_total"); got != 1 {
				t.Errorf("connections_total = %v, want 1", got)
			}
			if got := ts.metric(t, "tempfail_policy_connections_active"); got != 1 {
				t.Errorf("connections_active = %v, want 1", got)
			}
			c.Close()
			ts.waitMetric(t, 0, "tempfail_policy_connections_active")
		})
	}
}

// A client that writes several requests before reading gets every answer,
// in order.
func TestServerPipelined(t *testing.T) {
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			ts := startServer(t, network, Options{}, echo)
			c := ts.dial(t)
			var all, want strings.Builder
			for i := range 50 {
				sender := fmt.Sprintf("p%d@example.com", i)
				all.WriteString(rcpt(sender))
				want.WriteString(echoed(sender))
			}
			io.WriteString(c, all.String())
			closeWrite(t, c)
			if got := readAll(t, c); got != want.String() {
				t.Errorf("got %q\nwant %q", got, want.String())
			}
		})
	}
}

// Exim's ${readsocket}: one request, maybe without the empty line, then
// shutdown(SHUT_WR); the answer must still come.
func TestServerEximHalfClose(t *testing.T) {
	exim := samples[len(samples)-1]
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			ts := startServer(t, network, Options{}, echo)
			for _, wire := range []string{exim.wire, exim.wire + "\n", exim.wire + "\n\n"} {
				c := ts.dial(t)
				io.WriteString(c, wire)
				closeWrite(t, c)
				if got, want := readAll(t, c), echoed(exim.want.Sender); got != want {
					t.Errorf("request %q: got %q, want %q", wire, got, want)
				}
			}
			for k := ErrorKind(0); k < numKinds; k++ {
				if got := ts.metric(t, "tempfail_policy_protocol_errors_total", "kind", k.String()); got != 0 {
					t.Errorf("protocol_errors_total{kind=%s} = %v, want 0", k, got)
				}
			}
		})
	}
}

// Each protocol error: the connection is closed unanswered, the error is
// logged and counted by kind, and the server goes on serving others.
func TestServerProtocolErrors(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		wire       string
		closeWrite bool
		kind       ErrorKind
		logged     string
	}{
		{"no equals", Options{}, "request=smtpd_access_policy\nGET / HTTP/1.0\n\n", false, KindNoEquals,
			`line 2: no \"=\" in \"GET / HTTP/1.0\"`},
		{"too large", Options{MaxRequestSize: 256},
			"request=smtpd_access_policy\nsender=" + strings.Repeat("x", 4000) + "\n\n", false, KindTooLarge,
			"request exceeds 256 bytes"},
		{"binary", Options{}, "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03=\n\n", false, KindBinary,
			`line 1: NUL byte in \"\\x16\\x03\\x01\\x00`},
		{"bad name", Options{}, "request=smtpd_access_policy\nprotocol state=RCPT\n\n", false, KindBadName,
			"space or non-ASCII character in attribute name"},
		{"missing request", Options{}, "sender=a@example.com\n\n", false, KindMissingRequest,
			`no \"request\" attribute`},
		{"unknown request", Options{}, "request=foo\n\n", false, KindUnknownRequest,
			`unknown request type \"foo\"`},
		{"truncated", Options{}, "protocol_state=RCPT\nsender=a@example.com\n", true, KindTruncated,
			"EOF in the middle of a request"},
		{"timeout", Options{ReadTimeout: 100 * time.Millisecond}, "request=smtpd_access_policy\nsend", false,
			KindTimeout, "i/o timeout"},
	}
	for _, network := range networks {
		for _, tt := range tests {
			t.Run(network+"/"+tt.name, func(t *testing.T) {
				ts := startServer(t, network, tt.opts, echo)
				c := ts.dial(t)
				br := bufio.NewReader(c)
				// A good request first: the error closes a connection that
				// has been useful, as it would in real life.
				if got := roundTrip(t, c, br, rcpt("ok@example.com")); got != echoed("ok@example.com") {
					t.Fatalf("first request: %q", got)
				}
				io.WriteString(c, tt.wire)
				if tt.closeWrite {
					closeWrite(t, c)
				}
				rest, err := io.ReadAll(br)
				if err != nil && !isReset(err) {
					t.Fatalf("reading until close: %v", err)
				}
				if len(rest) != 0 {
					t.Errorf("server answered %q; it must close without answering", rest)
				}
				ts.waitMetric(t, 1, "tempfail_policy_protocol_errors_total", "kind", tt.kind.String())
				logs := ts.logs.String()
				for _, want := range []string{"level=WARN", "policy protocol error", "kind=" + tt.kind.String(), tt.logged} {
					if !strings.Contains(logs, want) {
						t.Errorf("log lacks %q:\n%s", want, logs)
					}
				}
				if network == "tcp" && !strings.Contains(logs, "remote=127.0.0.1:") {
					t.Errorf("log lacks the remote address:\n%s", logs)
				}
				if network == "unix" && !strings.Contains(logs, "remote=unix:/") {
					t.Errorf("log lacks the socket:\n%s", logs)
				}
				// The server still serves.
				resp, err := Query(context.Background(), ts.addr, req(func(r *policy.Request) { r.Sender = "next@example.com" }), false)
				if err != nil || resp.Action != "PREPEND X-Sender: next@example.com" {
					t.Errorf("next query: %+v, %v", resp, err)
				}
				ts.waitMetric(t, 0, "tempfail_policy_connections_active")
			})
		}
	}
}

// A client that vanished without closing is reaped after IdleTimeout,
// silently: that is no protocol error.
func TestServerIdleTimeout(t *testing.T) {
	ts := startServer(t, "tcp", Options{IdleTimeout: 50 * time.Millisecond}, echo)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	roundTrip(t, c, br, rcpt("a@example.com"))
	if rest := readAll(t, c); rest != "" {
		t.Errorf("got %q after idling", rest)
	}
	ts.waitMetric(t, 0, "tempfail_policy_connections_active")
	for k := ErrorKind(0); k < numKinds; k++ {
		if got := ts.metric(t, "tempfail_policy_protocol_errors_total", "kind", k.String()); got != 0 {
			t.Errorf("protocol_errors_total{kind=%s} = %v, want 0", k, got)
		}
	}
	if !strings.Contains(ts.logs.String(), "idle too long") {
		t.Errorf("idle close not logged:\n%s", ts.logs)
	}
}

// The idle deadline is renewed lazily, but renewed: a connection whose
// requests come more often than IdleTimeout stays open for many times it,
// and closes once it goes quiet.
func TestServerIdleTimeoutRenewed(t *testing.T) {
	const idle = 200 * time.Millisecond
	ts := startServer(t, "tcp", Options{IdleTimeout: idle}, echo)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	for i := range 12 { // 12 x idle/4: three IdleTimeouts in all
		sender := fmt.Sprintf("r%d@example.com", i)
		if got := roundTrip(t, c, br, rcpt(sender)); got != echoed(sender) {
			t.Fatalf("request %d: %q", i, got)
		}
		time.Sleep(idle / 4)
	}
	if rest := readAll(t, c); rest != "" {
		t.Errorf("got %q after idling", rest)
	}
	ts.waitMetric(t, 0, "tempfail_policy_connections_active")
}

func TestServerMaxConns(t *testing.T) {
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			ts := startServer(t, network, Options{MaxConns: 2}, echo)
			var open []net.Conn
			for i := range 2 {
				c := ts.dial(t)
				sender := fmt.Sprintf("c%d@example.com", i)
				if got := roundTrip(t, c, bufio.NewReader(c), rcpt(sender)); got != echoed(sender) {
					t.Fatalf("connection %d: %q", i, got)
				}
				open = append(open, c)
			}
			// The third is closed at once, unanswered, even before it asks.
			extra := ts.dial(t)
			if got := readAll(t, extra); got != "" {
				t.Errorf("connection over MaxConns got %q", got)
			}
			ts.waitMetric(t, 1, "tempfail_policy_connections_rejected_total")
			if got := ts.metric(t, "tempfail_policy_connections_total"); got != 2 {
				t.Errorf("connections_total = %v, want 2 (rejected ones not included)", got)
			}
			if !strings.Contains(ts.logs.String(), "too many connections") {
				t.Errorf("rejection not logged:\n%s", ts.logs)
			}
			// A freed slot is usable again.
			open[0].Close()
			ts.waitMetric(t, 1, "tempfail_policy_connections_active")
			c := ts.dial(t)
			if got := roundTrip(t, c, bufio.NewReader(c), rcpt("again@example.com")); got != echoed("again@example.com") {
				t.Errorf("after a slot freed: %q", got)
			}
		})
	}
}

// The rejection log line is rate-limited; the counter is not.
func TestServerMaxConnsLogRateLimited(t *testing.T) {
	ts := startServer(t, "tcp", Options{MaxConns: 1}, echo)
	c := ts.dial(t)
	roundTrip(t, c, bufio.NewReader(c), rcpt("a@example.com"))
	for range 5 {
		readAll(t, ts.dial(t))
	}
	ts.waitMetric(t, 5, "tempfail_policy_connections_rejected_total")
	if n := strings.Count(ts.logs.String(), "too many connections"); n != 1 {
		t.Errorf("%d rejection log lines for 5 rejections in a burst, want 1", n)
	}
}

func TestServerHandlerPanic(t *testing.T) {
	h := handlerFunc(func(ctx context.Context, req *policy.Request) policy.Verdict {
		if req.Sender == "panic@example.com" {
			var m map[string]int
			m["boom"]++ // a nil map write: a real bug, not a polite panic(string)
		}
		return echo(ctx, req)
	})
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			ts := startServer(t, network, Options{}, h)
			c := ts.dial(t)
			br := bufio.NewReader(c)
			if got := roundTrip(t, c, br, rcpt("panic@example.com")); got != "action=DUNNO\n\n" {
				t.Errorf("after a panic: %q, want DUNNO", got)
			}
			// Same connection, next request: business as usual.
			if got := roundTrip(t, c, br, rcpt("fine@example.com")); got != echoed("fine@example.com") {
				t.Errorf("after the panic: %q", got)
			}
			if got := ts.metric(t, "tempfail_policy_handler_panics_total"); got != 1 {
				t.Errorf("handler_panics_total = %v, want 1", got)
			}
			logs := ts.logs.String()
			if !strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, "assignment to entry in nil map") {
				t.Errorf("panic not logged:\n%s", logs)
			}
		})
	}
}

func TestServerShutdownDrains(t *testing.T) {
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			h := handlerFunc(func(ctx context.Context, req *policy.Request) policy.Verdict {
				if req.Sender == "slow@example.com" {
					close(entered)
					<-release
				}
				return echo(ctx, req)
			})
			ts := startServer(t, network, Options{}, h)
			idle := ts.dial(t)
			roundTrip(t, idle, bufio.NewReader(idle), rcpt("idle@example.com"))
			busy := ts.dial(t)
			io.WriteString(busy, rcpt("slow@example.com"))
			<-entered

			done := make(chan error, 1)
			go func() { done <- ts.srv.Shutdown(context.Background()) }()

			// The idle connection is closed, the listener too.
			if got := readAll(t, idle); got != "" {
				t.Errorf("idle connection got %q", got)
			}
			if err := <-ts.serveErr; !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v, want ErrServerClosed", err)
			}
			network, address := splitAddr(ts.addr)
			if c, err := net.Dial(network, address); err == nil {
				c.Close()
				t.Error("still accepting after Shutdown")
			}
			select {
			case err := <-done:
				t.Fatalf("Shutdown returned (%v) with a request in flight", err)
			case <-time.After(50 * time.Millisecond):
			}

			// The in-flight request is answered, then its connection closed.
			close(release)
			if got := readAll(t, busy); got != echoed("slow@example.com") {
				t.Errorf("in-flight request got %q", got)
			}
			if err := <-done; err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if got := ts.metric(t, "tempfail_policy_connections_active"); got != 0 {
				t.Errorf("connections_active = %v after Shutdown", got)
			}
			if err := ts.srv.Serve(nil); !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve after Shutdown = %v, want ErrServerClosed", err)
			}
		})
	}
}

// A handler that does not finish in time cannot hold Shutdown up: when its
// context ends, Shutdown closes everything, cancels the handlers' context
// and returns.
func TestServerShutdownDeadline(t *testing.T) {
	entered, cancelled := make(chan struct{}), make(chan struct{})
	h := handlerFunc(func(ctx context.Context, req *policy.Request) policy.Verdict {
		close(entered)
		<-ctx.Done()
		close(cancelled)
		return policy.Verdict{}
	})
	ts := startServer(t, "tcp", Options{}, h)
	c := ts.dial(t)
	io.WriteString(c, rcpt("stuck@example.com"))
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want DeadlineExceeded", err)
	}
	<-cancelled
	if got := readAll(t, c); got != "" {
		t.Errorf("got %q from a connection closed by Shutdown", got)
	}
}

// Two servers may share a registry (say, one per listener set).
func TestServerSharedRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewServer(Options{}, echo, nil, reg)
	NewServer(Options{}, echo, nil, reg)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	want := []string{
		"tempfail_policy_connections_active",
		"tempfail_policy_connections_rejected_total",
		"tempfail_policy_connections_total",
		"tempfail_policy_handler_panics_total",
		"tempfail_policy_protocol_errors_total",
		"tempfail_policy_requests_total",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("metrics %v, want %v", names, want)
	}
}

func TestQuery(t *testing.T) {
	h := handlerFunc(func(_ context.Context, req *policy.Request) policy.Verdict {
		reason := "new_triplet"
		if req.DryRun {
			reason = "dry_run"
		}
		return policy.Verdict{Action: policy.DeferIfPermit, Text: "Greylisted for " + req.Client.String(),
			Check: "greylist", Reason: reason, Detail: "first seen", Wait: 5 * time.Minute}
	})
	for _, network := range networks {
		t.Run(network, func(t *testing.T) {
			ts := startServer(t, network, Options{}, h)
			r := samples[0].want
			resp, err := Query(context.Background(), ts.addr, r, false)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Action != "DEFER_IF_PERMIT Greylisted for 1.2.3.4" || resp.Check != "" || len(resp.Attrs) != 1 {
				t.Errorf("plain query: %+v", resp)
			}
			dry := *r
			dry.DryRun = true
			resp, err = Query(context.Background(), ts.addr, &dry, true)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Check != "greylist" || resp.Reason != "dry_run" ||
				resp.Detail != "first seen; retry can pass in 5m0s" || len(resp.Attrs) != 4 {
				t.Errorf("verbose dry-run query: %+v", resp)
			}
		})
	}
}

func TestQueryErrors(t *testing.T) {
	block := make(chan struct{})
	ts := startServer(t, "tcp", Options{}, handlerFunc(func(ctx context.Context, req *policy.Request) policy.Verdict {
		if req.Sender == "slow@example.com" {
			select {
			case <-block:
			case <-ctx.Done():
			}
		}
		return policy.Verdict{}
	}))
	t.Cleanup(func() { close(block) }) // runs before the server's Shutdown
	t.Run("refused request", func(t *testing.T) {
		_, err := Query(context.Background(), ts.addr, &policy.Request{Kind: "foo"}, false)
		if !errors.Is(err, ErrNoResponse) || !strings.Contains(err.Error(), "policy query "+ts.addr) {
			t.Errorf("err = %v, want ErrNoResponse with the address", err)
		}
	})
	t.Run("context deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := Query(ctx, ts.addr, req(func(r *policy.Request) { r.Sender = "slow@example.com" }), false)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := Query(ctx, ts.addr, req(func(r *policy.Request) { r.Sender = "slow@example.com" }), false)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want Canceled", err)
		}
	})
	t.Run("unencodable request", func(t *testing.T) {
		_, err := Query(context.Background(), ts.addr, req(func(r *policy.Request) { r.Sender = "a\nb" }), false)
		if err == nil || !strings.Contains(err.Error(), "newline") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("nobody listening", func(t *testing.T) {
		_, err := Query(context.Background(), "unix:"+t.TempDir()+"/none.sock", req(nil), false)
		if err == nil || !strings.Contains(err.Error(), "none.sock") {
			t.Errorf("err = %v", err)
		}
	})
}

// flakyListener fails its first Accept, as on EMFILE.
type flakyListener struct {
	net.Listener
	failed bool
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if !l.failed {
		l.failed = true
		return nil, errors.New("accept4: too many open files")
	}
	return l.Listener.Accept()
}

// An accept error is logged and retried; a listener closed by someone else
// ends Serve with an error that says so.
func TestServeAcceptErrors(t *testing.T) {
	l, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	srv := NewServer(Options{}, echo, slog.New(slog.NewTextHandler(logs, nil)), nil)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(&flakyListener{Listener: l}) }()
	resp, err := Query(context.Background(), l.Addr().String(), req(func(r *policy.Request) { r.Sender = "a@example.com" }), false)
	if err != nil || resp.Action != "PREPEND X-Sender: a@example.com" {
		t.Fatalf("after an accept error: %+v, %v", resp, err)
	}
	if !strings.Contains(logs.String(), "accept failed; retrying") {
		t.Errorf("accept error not logged:\n%s", logs)
	}
	l.Close()
	if err := <-served; !errors.Is(err, net.ErrClosed) || errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve on a listener closed by someone else = %v", err)
	}
	srv.Shutdown(context.Background())
}

// Negative timeouts disable them.
func TestServerTimeoutsDisabled(t *testing.T) {
	ts := startServer(t, "tcp", Options{IdleTimeout: -1, ReadTimeout: -1, WriteTimeout: -1}, echo)
	c := ts.dial(t)
	br := bufio.NewReader(c)
	io.WriteString(c, "request=smtpd_access_policy\n")
	time.Sleep(20 * time.Millisecond)
	if got := roundTrip(t, c, br, "sender=a@example.com\n\n"); got != echoed("a@example.com") {
		t.Errorf("got %q", got)
	}
}
