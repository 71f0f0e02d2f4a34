package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const realLog = "../../internal/report/testdata/postfix-real.log"

func runTrace(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := traceCmd(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestTraceCmd(t *testing.T) {
	code, out, _ := runTrace(t, "", "--help")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "--outcome") {
		t.Errorf("--help: %d\n%s", code, out)
	}
	// JSON: every queued message and the NOQUEUE reject, with the fields
	// issue 6 names.
	code, out, errs := runTrace(t, "", "--json", realLog)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 9 || errs != "" {
		t.Fatalf("--json: %d, %d lines, stderr %q", code, len(lines), errs)
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"queue_id", "from", "recipients", "first_seen", "last_seen", "outcome"} {
			if _, ok := m[k]; !ok {
				t.Errorf("no %q in %s", k, l)
			}
		}
	}
	// filters
	for _, tc := range []struct {
		args []string
		n    int
	}{
		{[]string{"--outcome", "bounced"}, 2},
		{[]string{"--outcome", "bounced,expired"}, 3},
		{[]string{"--to", "@reject.test"}, 2},
		{[]string{"--to", "carol@slow.test"}, 1},
		{[]string{"--from", "<>"}, 3},
		{[]string{"--from", "example.net"}, 6},
		{[]string{"--message-id", "expires@client.example.net"}, 1},
		{[]string{"--outcome", "rejected"}, 1},
		{[]string{"--host", "nosuchhost"}, 0},
		{[]string{"--since", "2020-01-01T00:00:00Z", "--until", "2020-01-02 00:00"}, 0},
	} {
		code, out, _ := runTrace(t, "", append(append([]string{"--json"}, tc.args...), realLog)...)
		if n := strings.Count(out, "\n"); code != 0 || n != tc.n {
			t.Errorf("%v: %d messages (exit %d), want %d\n%s", tc.args, n, code, tc.n, out)
		}
	}
	// --id with a notification's id finds the message it reports on too
	code, out, _ = runTrace(t, "", "--outcome", "expired", realLog)
	if code != 0 || !strings.Contains(out, "expired after") || !strings.Contains(out, "rate_limit, temporary") || !strings.Contains(out, "why: ") || !strings.Contains(out, "bounce notification: ") {
		t.Errorf("text timeline:\n%s", out)
	}
	// stdin, gzip, unparsed lines summarised on stderr but not fatal
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	data, _ := os.ReadFile(realLog)
	zw.Write([]byte("this is not a log line\n"))
	zw.Write(data)
	zw.Close()
	code, out, errs = runTrace(t, gz.String(), "--json")
	if code != 0 || strings.Count(out, "\n") != 9 || !strings.Contains(errs, "1 of 80 lines not understood") || !strings.Contains(errs, "stdin:1: this is not") {
		t.Errorf("stdin gzip: %d %d\n%s", code, strings.Count(out, "\n"), errs)
	}
	// usage errors and unreadable input
	if code, _, _ := runTrace(t, "", "--outcome", "lost"); code != 2 {
		t.Errorf("bad outcome: %d", code)
	}
	if code, _, _ := runTrace(t, "", "--since", "yesterday-ish"); code != 2 {
		t.Errorf("bad since: %d", code)
	}
	if code, _, errs := runTrace(t, "", filepath.Join(t.TempDir(), "missing.log")); code != 1 || !strings.Contains(errs, "missing.log") {
		t.Errorf("missing file: %d %s", code, errs)
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2h":                   now.Add(-2 * time.Hour),
		"3d":                   now.Add(-72 * time.Hour),
		"2026-11-27T10:00:00Z": time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
	} {
		got, err := parseWhen(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if got, err := parseWhen("2026-11-27 10:00", now); err != nil || got.Hour() != 10 {
		t.Errorf("local: %v %v", got, err)
	}
}

func TestReportCmd(t *testing.T) {
	var out, errb bytes.Buffer
	if code := reportCmd([]string{"--help"}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "--stuck") {
		t.Errorf("--help: %d", code)
	}
	out.Reset()
	if code := reportCmd([]string{"--stuck", "5s", realLog}, nil, &out, &errb); code != 0 || !strings.Contains(out.String(), "Messages in the queue longer than 5s: 1") {
		t.Errorf("text: %d\n%s\n%s", code, out.String(), errb.String())
	}
	out.Reset()
	if code := reportCmd([]string{"--format", "json", realLog}, nil, &out, &errb); code != 0 || !json.Valid(out.Bytes()) {
		t.Errorf("json: %d", code)
	}
	html := filepath.Join(t.TempDir(), "r.html")
	out.Reset()
	if code := reportCmd([]string{"--format", "html", "--out", html, realLog}, nil, &out, &errb); code != 0 || out.Len() != 0 {
		t.Errorf("html: %d", code)
	}
	if b, err := os.ReadFile(html); err != nil || !bytes.Contains(b, []byte("<svg")) {
		t.Errorf("html file: %v", err)
	}
	if code := reportCmd([]string{"--format", "pdf"}, nil, &out, &errb); code != 2 {
		t.Errorf("bad format: %d", code)
	}
}
