package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runExplain(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := explainCmd(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestExplainCmd(t *testing.T) {
	// Arguments: one input each, text output.
	code, out, _ := runExplain(t, "", "450 4.7.1 <u@r.com>: Recipient address rejected: Greylisted for 5 minutes", "0x800CCC79")
	if code != 0 || !strings.Contains(out, "greylisting — temporary") || !strings.Contains(out, "auth_required") {
		t.Errorf("args: %d\n%s", code, out)
	}
	// Standard input, --json: one object per input, multi-line replies joined.
	in := "450-4.2.1 The user you are trying to contact is receiving mail at a rate that\n450 4.2.1 prevents additional messages - gsmtp\n\nsomething unknown\n"
	code, out, _ = runExplain(t, in, "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 2 {
		t.Fatalf("stdin --json: %d, %d lines:\n%s", code, len(lines), out)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"input", "cause", "temporary", "actor", "code", "enhanced", "enhanced_meaning", "stage", "remote", "provider", "summary", "fix", "resolves"} {
		if _, ok := r[k]; !ok {
			t.Errorf("JSON lacks %q: %s", k, lines[0])
		}
	}
	if r["cause"] != "rate_limit" || r["code"] != float64(450) {
		t.Errorf("first: %v", r)
	}
	if err := json.Unmarshal([]byte(lines[1]), &r); err != nil || r["cause"] != "other" {
		t.Errorf("unknown input: %v %v", err, r)
	}
	// --dsn FILE: one result per recipient block.
	dsn := "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; a@example.net\nAction: delayed\nStatus: 4.2.2\nDiagnostic-Code: smtp; 452 4.2.2 Mailbox full\n\nFinal-Recipient: rfc822; b@example.net\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\n"
	f := filepath.Join(t.TempDir(), "bounce.eml")
	if err := os.WriteFile(f, []byte(dsn), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runExplain(t, "", "--json", "--dsn", f)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"mailbox_full"`) || !strings.Contains(out, `"recipient":"b@example.net"`) {
		t.Errorf("--dsn: %d\n%s", code, out)
	}
	code, out, _ = runExplain(t, dsn, "--dsn")
	if code != 0 || !strings.Contains(out, "recipient a@example.net") {
		t.Errorf("--dsn stdin: %d\n%s", code, out)
	}
}

func TestExplainCmdUsage(t *testing.T) {
	if code, _, _ := runExplain(t, "", "--nope"); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
	if code, _, _ := runExplain(t, "", "--dsn", "a", "b"); code != 2 {
		t.Errorf("two DSN files: exit %d, want 2", code)
	}
	if code, _, _ := runExplain(t, "", "--dsn", "/nonexistent/file"); code != 2 {
		t.Errorf("missing DSN file: exit %d, want 2", code)
	}
	if code, _, _ := runExplain(t, "", "--rules", "/nonexistent/rules.toml", "450"); code != 2 {
		t.Errorf("missing rules file: exit %d, want 2", code)
	}
	code, out, _ := runExplain(t, "", "--help")
	if code != 0 || !strings.Contains(out, "Usage: tempfail explain") {
		t.Errorf("--help: %d\n%s", code, out)
	}
	var o, e bytes.Buffer
	if c := run([]string{"explain", "--help"}, &o, &e); c != 0 {
		t.Errorf("dispatch: exit %d: %s", c, e.String())
	}
}
