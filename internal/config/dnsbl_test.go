package config

import (
	"strings"
	"testing"
)

func TestParseDNSBL(t *testing.T) {
	text := `
[dnsbl]
sites = [
  "zen.spamhaus.org*3",
  "b.barracudacentral.org=127.0.0.2*2",
  "list.dnswl.org=127.0.[0..255].[1..3]*-2",
]
reject_threshold = 3
action = "defer"
reply_names = { "zen.spamhaus.org" = "zen" }
`
	c := Defaults()
	if err := Parse("t.toml", []byte(text), &c); err != nil {
		t.Fatal(err)
	}
	if !c.DNSBL.Enabled() || len(c.DNSBL.Sites) != 3 || c.DNSBL.Action != "defer" || c.DNSBL.ReplyNames["zen.spamhaus.org"] != "zen" {
		t.Fatalf("got %+v", c.DNSBL)
	}
	if d := Defaults(); d.DNSBL.Enabled() {
		t.Fatal("no list may be queried unless the admin chooses one")
	}
}

func TestParseDNSBLErrors(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"unknown key", "[dnsbl]\nsites = [\"zen.test*3\"]\nthreshold = 2\n", `t.toml:3: unknown key "dnsbl.threshold"`},
		{"bad site, one line", "[greylist]\ndelay = 60\n[dnsbl]\nsites = [\"zen.test*3\", \"bad*x\"]\n", `t.toml:4: dnsbl.sites: dnsbl: site "bad*x"`},
		{"bad site, own line", "[dnsbl]\nsites = [\n  \"zen.test*3\",\n  \"b.test=127.0.0.300*2\",\n]\n", `t.toml:4: dnsbl.sites:`},
		{"weights under the threshold", "[dnsbl]\nsites = [\"zen.test\"]\n", `below reject_threshold 3`},
		{"bad action", "[dnsbl]\nsites = [\"zen.test*3\"]\naction = \"drop\"\n", `dnsbl.action must be`},
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
