package config

import (
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/checks/ratelimit"
)

const twoLimits = `
[greylist]
enabled = false

# The seed's "rate limit for new clients (2/h)", counted per message.
[[ratelimit.limit]]
name  = "new-clients"
key   = ["client_address"]
count = "messages"
state = "end-of-message"
rate  = "2/h"
scope = "new"

[[ratelimit.limit]]
name  = "users"
key   = ["sasl_username"]
count = "recipients"
rate  = "100 per hour"
burst = 20
scope = "authenticated"
exempt_users = ["relay"]
`

func TestParseRateLimits(t *testing.T) {
	c := Defaults()
	if err := Parse("t.toml", []byte(twoLimits), &c); err != nil {
		t.Fatal(err)
	}
	ls := c.RateLimit.Limits
	if !c.RateLimit.Enabled || len(ls) != 2 {
		t.Fatalf("got %+v", c.RateLimit)
	}
	a, b := ls[0], ls[1]
	if a.Rate.Count != 2 || a.Rate.Period != time.Hour || a.Burst != 2 || a.Action != ratelimit.ActionDefer ||
		a.Mode != ratelimit.ModeEnforce || a.Text != "Rate limit for new clients exceeded ({rate}), try again in {wait}" {
		t.Errorf("limit 1: %+v", a)
	}
	if b.State != ratelimit.StateEndOfMessage || b.Burst != 20 || b.Action != ratelimit.ActionHold || b.ExemptUsers[0] != "relay" {
		t.Errorf("limit 2 defaults: %+v", b)
	}
	// Validate is idempotent (serve validates again after flags).
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if x := c.RateLimit.Limits[0]; x.Text != a.Text || x.Burst != a.Burst || x.Action != a.Action || x.State != a.State {
		t.Errorf("second Validate changed the limit: %+v", x)
	}
}

func TestParseRateLimitErrors(t *testing.T) {
	head := "[[ratelimit.limit]]\nname = \"a\"\nkey = [\"client_address\"]\nrate = \"2/h\"\n" // lines 1-4
	tests := []struct{ name, text, want string }{
		{"unknown key with hint", head + "scoop = \"new\"\n", `t.toml:5: unknown key "ratelimit.limit.scoop" (did you mean "scope"?)`},
		{"unknown key in [ratelimit]", "[ratelimit]\nenabld = true\n", `t.toml:2: unknown key "ratelimit.enabld" (did you mean "enabled"?)`},
		{"bad rate", "[[ratelimit.limit]]\nname = \"a\"\nkey = [\"sender\"]\nrate = \"2 per fortnight\"\n", `t.toml:4: ratelimit.limit.rate: ratelimit: rate "2 per fortnight": unknown unit "fortnight"`},
		{"missing rate", "[[ratelimit.limit]]\nname = \"a\"\nkey = [\"sender\"]\n", `t.toml:1: ratelimit.limit[0] ("a").rate: missing`},
		{"messages at rcpt, second limit", head + "\n[[ratelimit.limit]]\nname = \"b\"\nkey = [\"sender\"]\nrate = \"9/h\"\nstate = \"rcpt\"\ncount = \"messages\"\n",
			`t.toml:11: ratelimit.limit[1] ("b").count: "messages" at state "rcpt" would count recipients`},
		{"bytes at rcpt", head + "state = \"rcpt\"\ncount = \"size\"\n", `t.toml:6: ratelimit.limit[0] ("a").count: "bytes" needs state = "end-of-message"`},
		{"recipient_domain at eom", "[[ratelimit.limit]]\nname = \"a\"\nkey = [\"recipient_domain\"]\nrate = \"2/h\"\n", `t.toml:3: ratelimit.limit[0] ("a").key: recipient and recipient_domain keys need state = "rcpt"`},
		{"unknown key kind", "[[ratelimit.limit]]\nname = \"a\"\nkey = [\"helo\"]\nrate = \"2/h\"\n", `t.toml:3: ratelimit.limit[0] ("a").key: unknown key "helo"`},
		{"bad scope", head + "scope = \"everyone\"\n", `t.toml:5: ratelimit.limit[0] ("a").scope: "everyone": use all, new or authenticated`},
		{"bad action", head + "action = \"drop\"\n", `t.toml:5: ratelimit.limit[0] ("a").action:`},
		{"bad mode", head + "mode = \"dry\"\n", `t.toml:5: ratelimit.limit[0] ("a").mode:`},
		{"bad exempt client", head + "exempt_clients = [\"10.0.0.0/33\"]\n", `t.toml:5: ratelimit.limit[0] ("a").exempt_clients:`},
		{"sasl with scope new", "[[ratelimit.limit]]\nname = \"a\"\nkey = [\"sasl_username\"]\nrate = \"2/h\"\nscope = \"new\"\n", `t.toml:3: ratelimit.limit[0] ("a").key: sasl_username with scope = "new" never matches`},
		{"duplicate name", head + head, `t.toml:6: ratelimit.limit[1] ("a").name: name "a" is already used`},
		{"no name", "[[ratelimit.limit]]\nkey = [\"sender\"]\nrate = \"2/h\"\n", `t.toml:1: ratelimit.limit[0].name: every limit needs a name`},
		{"bad burst", head + "burst = -1\n", `t.toml:5: ratelimit.limit[0] ("a").burst:`},
		{"bad type", head + "burst = \"many\"\n", `t.toml:5:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			err := Parse("t.toml", []byte(tt.text), &c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}
