package greylist

import (
	"net/netip"
	"strings"
	"testing"
)

func TestNormalizeSender(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"Alice@Example.COM", "alice@example.com"},
		{"alice+news@example.com", "alice+news@example.com"},
		// BATV
		{"prvs=1234abcdef=alice@example.com", "alice@example.com"},
		{"PRVS=0123456789=Bob@Example.org", "bob@example.org"},
		{"msprvs1=19123abcdEf=bounces-x@example.net", "bounces-x@example.net"},
		{"btv1==0a1b2c3d4e5==carol@example.com", "carol@example.com"},
		// SRS
		{"SRS0=HHH=TT=example.org=alice@forwarder.net", "alice@example.org"},
		{"SRS0+x7Yh=2W=example.org=alice@forwarder.net", "alice@example.org"},
		{"SRS0-x7Yh=2W=example.org=a=b@forwarder.net", "a=b@example.org"},
		{"SRS1=HHH=first.example==HHH=TT=example.org=alice@second.example", "alice@example.org"},
		{"SRS0=HHH=TT=example.org=prvs=12345678=alice@fwd.example", "alice@example.org"},
		{"srs0=broken@fwd.example", "srs0=broken@fwd.example"},
		// VERP and per-message ids
		{"bounce-12345-678@lists.example.com", "bounce-#-#@lists.example.com"},
		{"bounce-12345-999@lists.example.com", "bounce-#-#@lists.example.com"},
		{"msg.1700000000.42@example.com", "msg.#.#@example.com"},
		{"0100018c2f9e3b7a-1f2e3d4c-5b6a-7980-a1b2-c3d4e5f60718-000000@amazonses.com", "#-#-#-#-#-#-#@amazonses.com"},
		{"bounces+1234567-abcd-alice=example.com@sendgrid.net", "bounces+#-abcd-alice=example.com@sendgrid.net"},
		{"user2024@example.com", "user2024@example.com"},
		{"deadbeef@example.com", "deadbeef@example.com"},
		{"postmaster", "postmaster"},
	}
	for _, tt := range tests {
		if got := NormalizeSender(tt.in); got != tt.want {
			t.Errorf("NormalizeSender(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// SenderDomain is the domain of the normalised sender.
		want := tt.want[strings.LastIndexByte(tt.want, '@')+1:]
		if got := SenderDomain(tt.in); got != want {
			t.Errorf("SenderDomain(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

func TestClientNet(t *testing.T) {
	tests := []struct {
		ip     string
		v4, v6 int
		want   string
	}{
		{"198.51.100.20", 24, 64, "198.51.100.0/24"},
		{"198.51.100.20", 32, 64, "198.51.100.20"},
		{"198.51.100.20", 16, 64, "198.51.0.0/16"},
		{"::ffff:198.51.100.20", 24, 64, "198.51.100.0/24"},
		{"2001:db8:1:2:3:4:5:6", 24, 64, "2001:db8:1:2::/64"},
		{"2001:db8:1:2:3:4:5:6", 24, 128, "2001:db8:1:2:3:4:5:6"},
		{"2001:db8:1:2:3:4:5:6", 24, 48, "2001:db8:1::/48"},
	}
	for _, tt := range tests {
		if got := ClientNet(netip.MustParseAddr(tt.ip), tt.v4, tt.v6); got != tt.want {
			t.Errorf("ClientNet(%s,%d,%d) = %q, want %q", tt.ip, tt.v4, tt.v6, got, tt.want)
		}
	}
	if got := ClientNet(netip.Addr{}, 24, 64); got != "unknown" {
		t.Errorf("invalid addr: %q", got)
	}
}
