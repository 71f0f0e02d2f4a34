// Package integration runs tempfail end to end against real servers:
// the real tempfail binary, a real Postfix in a private config directory on
// a loopback port (internal/testutil/postfixtest), and swaks as the SMTP
// client. Nothing leaves 127.0.0.1.
//
// The tests skip under -short only; without Postfix or swaks they fail
// (scripts/install-test-deps.sh installs them).
package integration
