package dnsbl

import (
	"net/netip"
	"testing"
)

func TestFillText(t *testing.T) {
	v4 := netip.MustParseAddr("192.0.2.7")
	mapped := netip.MustParseAddr("::ffff:192.0.2.7")
	for _, tc := range []struct {
		tmpl   string
		ip     netip.Addr
		reason string
		want   string
	}{
		{"Service unavailable; client [{ip}] blocked using {list}", v4, "", "Service unavailable; client [192.0.2.7] blocked using zen.test"},
		{"{ip}{list}{ip}", mapped, "", "192.0.2.7zen.test192.0.2.7"},
		{"no placeholders", v4, "see https://x.test/", "no placeholders; see https://x.test/"},
		{"{unknown} {{ip}} {", v4, "", "{unknown} {192.0.2.7} {"},
		{"{list", v4, "", "{list"},
		{"", v4, "", ""},
		{"bad reason", v4, "a\r\nb", "bad reason; a b"},
	} {
		if got := FillText(tc.tmpl, tc.ip, "zen.test", tc.reason); got != tc.want {
			t.Errorf("FillText(%q, %v, %q) = %q, want %q", tc.tmpl, tc.ip, tc.reason, got, tc.want)
		}
	}
}
