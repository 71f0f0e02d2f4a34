package postfixpolicy

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// splitAddr maps our address syntax, which follows Postfix's
// check_policy_service (SMTPD_POLICY_README, "Policy client/server
// configuration": inet:127.0.0.1:9998, unix:/some/where/policy), to a Go
// network and address. "unix:PATH" is a unix-domain socket; "inet:HOST:PORT"
// and a bare "HOST:PORT" (IPv6 as "[::1]:10023") are TCP.
func splitAddr(addr string) (network, address string) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		return "unix", path
	}
	return "tcp", strings.TrimPrefix(addr, "inet:")
}

// Listen opens a listener for Serve. For "unix:PATH" it removes a stale
// socket file left by an earlier run (only a socket, and only if nobody
// answers on it) and makes the new socket mode 0666, so Postfix's smtpd,
// running as another user, can connect; restrict access with the
// permissions of the directory that holds it. Otherwise addr is a TCP
// "HOST:PORT" (see splitAddr).
func Listen(addr string) (net.Listener, error) {
	network, address := splitAddr(addr)
	if network == "tcp" {
		l, err := net.Listen("tcp", address)
		if err != nil {
			return nil, fmt.Errorf("policy listen %s: %w", addr, err)
		}
		return l, nil
	}
	if address == "" {
		return nil, fmt.Errorf("policy listen %s: empty socket path", addr)
	}
	if err := removeStaleSocket(address); err != nil {
		return nil, fmt.Errorf("policy listen %s: %w", addr, err)
	}
	l, err := net.Listen("unix", address)
	if err != nil {
		return nil, fmt.Errorf("policy listen %s: %w", addr, err)
	}
	if err := os.Chmod(address, 0o666); err != nil {
		l.Close()
		return nil, fmt.Errorf("policy listen %s: make socket world-connectable: %w", addr, err)
	}
	return l, nil
}

// removeStaleSocket removes path if it is a socket nobody listens on. A
// live socket belongs to a running instance (removing it would silently
// steal its address); a non-socket is somebody's file: both are errors.
func removeStaleSocket(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket; not removing it", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%s is in use by a running server", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("probe existing socket: %w", err)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove stale socket: %w", err)
	}
	return nil
}
