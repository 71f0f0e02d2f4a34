package integration

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

// binary is the tempfail binary built once for the package by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "tempfail-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "tempfail")
	cmd := exec.Command("go", "build", "-o", binary, "github.com/tempfail/tempfail/cmd/tempfail")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building tempfail:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects a child's output for searching while it runs.
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

// server is a running `tempfail serve`.
type server struct {
	Addr    string
	DataDir string
	cmd     *exec.Cmd
	log     *syncBuffer
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServer runs the tempfail binary with the given [greylist] etc.
// config text appended to a listen/data_dir header.
func startServer(t *testing.T, extra string) *server {
	t.Helper()
	dir := t.TempDir()
	s := &server{Addr: freeAddr(t), DataDir: filepath.Join(dir, "data"), log: &syncBuffer{}}
	if !strings.Contains(extra, "[dns]") {
		// Never the machine's resolver: DNS comes from a server on
		// loopback where every test domain exists (see defaultZone).
		extra += fmt.Sprintf("\n[dns]\nservers = [%q]\n", testDNS(t))
	}
	conf := fmt.Sprintf("listen = [%q]\ndata_dir = %q\n[log]\nlevel = \"debug\"\n%s", s.Addr, s.DataDir, extra)
	path := filepath.Join(dir, "tempfail.toml")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(binary, "serve", "--config", path)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			t.Logf("tempfail log:\n%s", s.log.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", s.Addr)
		if err == nil {
			c.Close()
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("tempfail did not start listening on %s:\n%s", s.Addr, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// defaultZone is the DNS every test server sees unless its config has a
// [dns] section: the domains the tests send from exist (MX), publish no
// SPF, and no address has a PTR (Postfix's own client_name for it comes
// from /etc/hosts: "localhost").
const defaultZone = `
$TTL 300
example. IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
*.example. IN MX 10 mx.example.net.
example.net. IN SOA ns.example.net. hostmaster.example.net. 1 3600 600 86400 300
example.net. IN MX 10 mx.example.net.
mx.example.net. IN A 127.0.0.1
example.org. IN SOA ns.example.org. hostmaster.example.org. 1 3600 600 86400 300
example.org. IN MX 10 mx.example.net.
127.in-addr.arpa. IN SOA ns.example. hostmaster.example. 1 3600 600 86400 300
`

var (
	dnsMu      sync.Mutex
	dnsServers = map[testing.TB]string{}
)

// testDNS returns the address of the test's DNS server for defaultZone,
// started on first use (one per test, so a config rewritten for a reload
// keeps the same [dns]).
func testDNS(t testing.TB) string {
	dnsMu.Lock()
	defer dnsMu.Unlock()
	if a, ok := dnsServers[t]; ok {
		return a
	}
	a := dnstest.Start(t, defaultZone).Addr()
	dnsServers[t] = a
	t.Cleanup(func() {
		dnsMu.Lock()
		delete(dnsServers, t)
		dnsMu.Unlock()
	})
	return a
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop(t *testing.T) {
	if s.cmd.ProcessState != nil {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("tempfail exited with %v", err)
		}
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-done
		t.Errorf("tempfail did not stop within 15s of SIGTERM")
	}
}

// waitLog waits for re to appear in the server's log.
func (s *server) waitLog(t *testing.T, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if m := re.FindString(s.log.String()); m != "" {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("tempfail log never matched %s:\n%s", re, s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) logCount(sub string) int { return strings.Count(s.log.String(), sub) }
