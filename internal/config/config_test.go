package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen[0] != "127.0.0.1:10023" || c.Greylist.Delay.D() != 300*time.Second ||
		c.Greylist.RetryWindow.D() != 48*time.Hour || c.Greylist.MaxAge.D() != 35*24*time.Hour ||
		c.Greylist.AutoAllowlist != 5 || c.Greylist.DeferAt != "rcpt" || c.OnError != "dunno" {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func TestParseGood(t *testing.T) {
	text := `
listen = ["127.0.0.1:10023", "unix:/run/tempfail/policy.sock"]
data_dir = "/tmp/x"
metrics_listen = "127.0.0.1:9123"
[greylist]
delay = 60          # seconds as an integer work too
retry_window = "1d"
max_age = "30d"
auto_allowlist = 0
defer_at = "data"
recipients = []
`
	c := Defaults()
	if err := Parse("t.toml", []byte(text), &c); err != nil {
		t.Fatal(err)
	}
	if c.Greylist.Delay.D() != time.Minute || c.Greylist.RetryWindow.D() != 24*time.Hour ||
		c.Greylist.DeferAt != "data" || len(c.Greylist.Recipients) != 0 || len(c.Listen) != 2 {
		t.Fatalf("got %+v", c)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
	}{
		{"unknown top key", "listen = [\"127.0.0.1:1\"]\nlisten_addr = \"x\"\n", `t.toml:2: unknown key "listen_addr"`},
		{"unknown key in table with hint", "[greylist]\n\ndellay = \"5m\"\n", `t.toml:3: unknown key "greylist.dellay" (did you mean "delay"?)`},
		{"unknown table", "[greylst]\ndelay = 1\n", `t.toml:1: unknown key "greylst"`},
		{"bad duration", "[greylist]\ndelay = \"5 minutes\"\n", `t.toml:2:`},
		{"bad type", "[greylist]\nauto_allowlist = \"five\"\n", `t.toml:2:`},
		{"syntax", "listen = [\n", `t.toml:`},
		{"bad defer_at", "[greylist]\ndefer_at = \"mail\"\n", `greylist.defer_at must be "rcpt" or "data"`},
		{"window shorter than delay", "[greylist]\ndelay = \"3d\"\n", `retry_window`},
		{"bad listen", "listen = [\"nowhere\"]\n", `want host:port or unix:/path`},
		{"bad on_error", "on_error = \"reject\"\n", `on_error must be`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			err := Parse("t.toml", []byte(tt.text), &c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	// The annotated example shipped in the repo must always load.
	p := filepath.Join("..", "..", "examples", "tempfail.toml")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("example config missing: %v", err)
	}
	if _, err := Load(p); err != nil {
		t.Fatal(err)
	}
}
