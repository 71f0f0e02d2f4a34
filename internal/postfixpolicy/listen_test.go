package postfixpolicy

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSplitAddr(t *testing.T) {
	tests := []struct{ addr, network, address string }{
		{"unix:/var/spool/postfix/private/tempfail", "unix", "/var/spool/postfix/private/tempfail"},
		{"unix:private/tempfail", "unix", "private/tempfail"},
		{"127.0.0.1:10023", "tcp", "127.0.0.1:10023"},
		{"inet:127.0.0.1:10023", "tcp", "127.0.0.1:10023"},
		{"[::1]:10023", "tcp", "[::1]:10023"},
		{"localhost:10023", "tcp", "localhost:10023"},
	}
	for _, tt := range tests {
		if n, a := splitAddr(tt.addr); n != tt.network || a != tt.address {
			t.Errorf("splitAddr(%q) = %q, %q; want %q, %q", tt.addr, n, a, tt.network, tt.address)
		}
	}
}

func TestListenUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.sock")
	l, err := Listen("unix:" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o666 {
		t.Errorf("socket mode %v, want a socket with 0666", fi.Mode())
	}
	// A second instance must not steal a live socket.
	if _, err := Listen("unix:" + path); err == nil || !strings.Contains(err.Error(), "in use by a running server") {
		t.Errorf("Listen on a live socket: %v", err)
	}
}

func TestListenUnixStaleSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.sock")
	// What a crashed run leaves behind: the file, nobody listening.
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	old.SetUnlinkOnClose(false)
	old.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket not left behind: %v", err)
	}
	l, err := Listen("unix:" + path)
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	l.Close()
}

func TestListenUnixRefusesNonSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.sock")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Listen("unix:" + path)
	if err == nil || !strings.Contains(err.Error(), "is not a socket") {
		t.Errorf("Listen over a regular file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "precious" {
		t.Error("the regular file was touched")
	}
}

func TestListenErrors(t *testing.T) {
	for _, addr := range []string{"unix:", "unix:" + filepath.Join(t.TempDir(), "missing", "dir", "s.sock"), "256.0.0.1:0", "nonsense"} {
		if l, err := Listen(addr); err == nil {
			l.Close()
			t.Errorf("Listen(%q) succeeded", addr)
		} else if !strings.Contains(err.Error(), "policy listen "+addr) {
			t.Errorf("Listen(%q) error lacks the address: %v", addr, err)
		}
	}
}

func TestListenTCP(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:0", "inet:127.0.0.1:0", "[::1]:0"} {
		l, err := Listen(addr)
		if err != nil {
			if strings.HasPrefix(addr, "[::1]") {
				t.Logf("no IPv6 loopback here: %v", err)
				continue
			}
			t.Fatalf("Listen(%q): %v", addr, err)
		}
		if l.Addr().Network() != "tcp" {
			t.Errorf("Listen(%q) network %q", addr, l.Addr().Network())
		}
		l.Close()
	}
}
