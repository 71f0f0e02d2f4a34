package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckConfig runs `serve --check-config`: a good file is "config OK"
// with exit 0; a bad one exits 1 naming the file and line, as a start or a
// reload would; nothing is opened or created either way.
func TestCheckConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	list := filepath.Join(dir, "whitelist_clients")
	writeFile(t, list, "# postgrey format\n192.0.2.0/24\n10.1\nmail.partner.example\n/^mx\\d+\\.example\\.org$/\n")
	badList := filepath.Join(dir, "bad_clients")
	writeFile(t, badList, "192.0.2.0/24\n192.0.2.0/99\n")
	header := fmt.Sprintf("listen = [\"127.0.0.1:10023\"]\ndata_dir = %q\n", data)

	cases := []struct {
		name   string
		config string
		code   int
		// want is what the output must contain; "LINE" is replaced by the
		// number of the config line holding mark.
		want, mark string
	}{
		{"good", header + fmt.Sprintf("[greylist]\ndelay = \"5m\"\nclient_files = [%q]\n", list),
			0, "config OK (FILE)", ""},
		{"good, durations in seconds", header + "[greylist]\ndelay = 300\nretry_window = 172800\n",
			0, "config OK (FILE)", ""},
		{"unknown key", header + "[greylist]\ndelay = \"5m\"\ndellay = \"5m\"\n",
			1, `FILE:LINE: unknown key "greylist.dellay" (did you mean "delay"?)`, "dellay"},
		{"unknown top-level key", header + "listen_address = \"127.0.0.1:1\"\n",
			1, `FILE:LINE: unknown key "listen_address"`, "listen_address"},
		{"bad duration", header + "[greylist]\ndelay = \"5 minutes\"\n",
			1, `FILE:LINE: greylist.delay: invalid duration "5 minutes"`, "5 minutes"},
		{"wrong type", header + "max_connections = \"many\"\n",
			1, `FILE:LINE: `, "many"},
		{"TOML syntax", header + "[greylist]\ndelay = \"5s\" x\n",
			1, `FILE:LINE: `, `"5s" x`},
		{"bad list entry", header + fmt.Sprintf("[greylist]\nclient_files = [%q]\n", badList),
			1, badList + ":2: ", ""},
		{"missing list file", header + fmt.Sprintf("[greylist]\nclient_files = [%q]\n", filepath.Join(dir, "nope")),
			1, filepath.Join(dir, "nope"), ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("case%d.toml", i))
			writeFile(t, path, tc.config)
			w := strings.ReplaceAll(tc.want, "FILE", path)
			if tc.mark != "" {
				w = strings.ReplaceAll(w, "LINE", fmt.Sprint(lineOf(t, tc.config, tc.mark)))
			}
			out, errOut, code := runCLI(t, "serve", "--check-config", "--config", path)
			if code != tc.code || !strings.Contains(out+errOut, w) {
				t.Errorf("exit %d, want %d, with %q in the output\nstdout:\n%s\nstderr:\n%s", code, tc.code, w, out, errOut)
			}
			if tc.code == 0 && !strings.HasPrefix(out, "config OK") {
				t.Errorf("\"config OK\" must go to stdout; stdout:\n%s", out)
			}
		})
	}
	if _, err := os.Stat(data); err == nil {
		t.Errorf("--check-config created data_dir %s; it must not open anything", data)
	}
}

// TestHelp checks that help is reachable, exits 0, and names what a new
// user needs.
func TestHelp(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"serve", "query", "version"}},
		{[]string{"help"}, []string{"serve", "query"}},
		{[]string{"serve", "--help"}, []string{"Usage: tempfail serve", "-config", "-listen", "-data-dir",
			"-check-config", "-metrics-listen", "-log-level", "-log-format", "SIGHUP", "SIGTERM", "10023"}},
		{[]string{"serve", "-h"}, []string{"Usage: tempfail serve", "-config"}},
		{[]string{"query", "--help"}, []string{"Usage: tempfail query", "-server", "-client", "-sender",
			"-recipient", "-sasl-user", "-json", "-commit", "dry run"}},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, code := runCLI(t, tc.args...)
			if code != 0 {
				t.Errorf("exit %d, want 0; stderr:\n%s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout does not mention %q:\n%s", w, out)
				}
			}
		})
	}
	// Misuse is not help: no command, or an unknown one, exits 2 with the
	// usage on stderr.
	for _, args := range [][]string{nil, {"frobnicate"}, {"serve", "--no-such-flag"}} {
		_, errOut, code := runCLI(t, args...)
		if code != 2 || !strings.Contains(errOut, "serve") {
			t.Errorf("tempfail %s: exit %d, want 2 with usage on stderr:\n%s", strings.Join(args, " "), code, errOut)
		}
	}
}

// TestQueryCLI drives `tempfail query` against a running server.
func TestQueryCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: skipped in -short mode")
	}
	conf, data := configPaths(t)
	addr := freeAddr(t)
	writeConfig(t, conf, addr, data, "")
	serveConfig(t, conf, addr)
	base := []string{"query", "--server", addr, "--client", "203.0.113.7",
		"--sender", "a@example.org", "--recipient", "b@example.net"}
	const dryRunNote = "(dry run: nothing was recorded; --commit makes it a real request)"

	cases := []struct {
		name  string
		extra []string
		want  []string
	}{
		{"dry run", nil, []string{
			"action: DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds\n",
			"check:  greylist\n", "reason: new_triplet\n", dryRunNote}},
		// A dry run recorded nothing, so the same triplet is new again.
		{"dry run again", nil, []string{"reason: new_triplet\n", dryRunNote}},
		{"authenticated", []string{"--sasl-user", "alice"}, []string{
			"action: DUNNO\n", "check:  greylist\n", "reason: exempt_sasl\n", dryRunNote}},
		{"postmaster", []string{"--recipient", "postmaster@example.net"}, []string{
			"action: DUNNO\n", "reason: exempt_recipient\n"}},
		{"commit", []string{"--commit"}, []string{"reason: new_triplet\n"}},
		// The committed attempt is recorded: now it is too early.
		{"after commit", nil, []string{"reason: retry_too_early\n", dryRunNote}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, append(base, tc.extra...)...)
			if code != 0 {
				t.Fatalf("exit %d; stderr:\n%s", code, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			if tc.name == "commit" && strings.Contains(out, "dry run") {
				t.Errorf("--commit output claims a dry run:\n%s", out)
			}
		})
	}

	t.Run("json", func(t *testing.T) {
		// Another sender: the triplet above is committed by now.
		out, errOut, code := runCLI(t, append(base, "--json", "--sender", "json@example.org")...)
		if code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, errOut)
		}
		var got struct {
			Action, Check, Reason string
			DryRun                bool `json:"dry_run"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("--json output is not JSON: %v\n%s", err, out)
		}
		if got.Action != greylisted(300) || got.Check != "greylist" || got.Reason != "new_triplet" || !got.DryRun {
			t.Errorf("--json gave %+v from\n%s", got, out)
		}
	})

	t.Run("nobody listening", func(t *testing.T) {
		dead := freeAddr(t)
		out, errOut, code := runCLI(t, "query", "--server", dead, "--client", "203.0.113.7",
			"--sender", "a@example.org", "--recipient", "b@example.net")
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		for _, w := range []string{dead, "connection refused", "is `tempfail serve` running"} {
			if !strings.Contains(errOut, w) {
				t.Errorf("stderr lacks %q:\n%s", w, errOut)
			}
		}
		if out != "" {
			t.Errorf("stdout should be empty on failure, got:\n%s", out)
		}
	})
}
