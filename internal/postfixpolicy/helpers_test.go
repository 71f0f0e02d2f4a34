package postfixpolicy

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tempfail/tempfail/internal/policy"
)

type handlerFunc func(ctx context.Context, req *policy.Request) policy.Verdict

func (f handlerFunc) Decide(ctx context.Context, req *policy.Request) policy.Verdict {
	return f(ctx, req)
}

// echo answers with the sender in the action text, so a test sees that its
// request arrived whole and that answers are not mixed up.
var echo = handlerFunc(func(_ context.Context, req *policy.Request) policy.Verdict {
	return policy.Verdict{Action: policy.Prepend, Text: "X-Sender: " + req.Sender,
		Check: "echo", Reason: string(req.State)}
})

func echoed(sender string) string { return "action=PREPEND X-Sender: " + sender + "\n\n" }

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testServer struct {
	srv      *Server
	reg      *prometheus.Registry
	addr     string // as Listen and Query take it
	logs     *syncBuffer
	serveErr chan error
}

var networks = []string{"tcp", "unix"}

// startServer serves h on a fresh loopback TCP port or a unix socket in a
// temporary directory, and shuts it down when the test ends.
func startServer(t testing.TB, network string, opts Options, h Handler) *testServer {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = "unix:" + filepath.Join(t.TempDir(), "policy.sock")
	}
	l, err := Listen(addr)
	if err != nil {
		t.Fatal(err)
	}
	if network == "tcp" {
		addr = l.Addr().String()
	}
	ts := &testServer{reg: prometheus.NewRegistry(), addr: addr, logs: &syncBuffer{},
		serveErr: make(chan error, 1)}
	log := slog.New(slog.NewTextHandler(ts.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ts.srv = NewServer(opts, h, log, ts.reg)
	go func() { ts.serveErr <- ts.srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ts.srv.Shutdown(ctx)
		if t.Failed() {
			t.Logf("server log:\n%s", ts.logs)
		}
	})
	return ts
}

func (ts *testServer) dial(t testing.TB) net.Conn {
	t.Helper()
	network, address := splitAddr(ts.addr)
	c, err := net.DialTimeout(network, address, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}

// metric returns the value of a counter or gauge, label values given as
// name, value pairs; -1 if the series does not exist.
func (ts *testServer) metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue series
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

// waitMetric waits for a metric to reach want: some are updated just after
// the client can observe the event (a connection's close).
func (ts *testServer) waitMetric(t *testing.T, want float64, name string, labels ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := ts.metric(t, name, labels...)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%v = %v, want %v", name, labels, got, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// roundTrip sends one request on c and returns the raw answer.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, wire string) string {
	t.Helper()
	if _, err := io.WriteString(c, wire); err != nil {
		t.Fatal(err)
	}
	resp, err := ReadResponse(br, 0)
	if err != nil {
		t.Fatalf("reading the answer to %q: %v", wire, err)
	}
	var b strings.Builder
	for _, a := range resp.Attrs {
		b.WriteString(a.Name + "=" + a.Value + "\n")
	}
	return b.String() + "\n"
}

// readAll reads until EOF and reports what the server sent before closing.
// A reset counts as a close: the server closes with unread input left when
// it gives up on a request, and TCP turns that into RST.
func readAll(t *testing.T, c net.Conn) string {
	t.Helper()
	b, err := io.ReadAll(c)
	if err != nil && !isReset(err) {
		t.Fatalf("reading until close: %v (got %q)", err, b)
	}
	return string(b)
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") ||
		strings.Contains(err.Error(), "broken pipe"))
}

func closeWrite(t *testing.T, c net.Conn) {
	t.Helper()
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
}

func rcpt(sender string) string {
	return "request=smtpd_access_policy\nprotocol_state=RCPT\nsender=" + sender + "\n\n"
}
