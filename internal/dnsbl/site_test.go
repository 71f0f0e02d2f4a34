package dnsbl

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseSite(t *testing.T) {
	tests := []struct {
		in     string
		domain string
		filter string // canonical, "" for none
		weight int
		canon  string // String(); "" means same as in
	}{
		// Bare domain: weight 1, any answer.
		{in: "bl.spamcop.net", domain: "bl.spamcop.net", weight: 1},
		{in: "zen.spamhaus.org*3", domain: "zen.spamhaus.org", weight: 3},
		{in: "bl.spameatingmonkey.net*2", domain: "bl.spameatingmonkey.net", weight: 2},
		{in: "zen.spamhaus.org*1", domain: "zen.spamhaus.org", weight: 1, canon: "zen.spamhaus.org"},
		{in: "zen.spamhaus.org*+2", domain: "zen.spamhaus.org", weight: 2, canon: "zen.spamhaus.org*2"},
		{in: "zen.spamhaus.org*0", domain: "zen.spamhaus.org", weight: 0},
		// Negative weights are allowlists.
		{in: "swl.spamhaus.org*-4", domain: "swl.spamhaus.org", weight: -4},
		// Fixed filter.
		{in: "b.barracudacentral.org=127.0.0.2*2", domain: "b.barracudacentral.org", filter: "127.0.0.2", weight: 2},
		{in: "example.com=127.0.0.4", domain: "example.com", filter: "127.0.0.4", weight: 1},
		// Ranges and sequences.
		{in: "zen.spamhaus.org=127.0.0.[2..11]*3", domain: "zen.spamhaus.org", filter: "127.0.0.[2..11]", weight: 3},
		{in: "list.dnswl.org=127.0.[0..255].0*-2", domain: "list.dnswl.org", filter: "127.0.[0..255].0", weight: -2},
		{in: "list.dnswl.org=127.0.[0..255].[1..3]*-3", domain: "list.dnswl.org", filter: "127.0.[0..255].[1..3]", weight: -3},
		{in: "wl.mailspike.net=127.0.0.[17;18]*-1", domain: "wl.mailspike.net", filter: "127.0.0.[17;18]", weight: -1},
		{in: "bl.mailspike.net=127.0.0.[10;11;12]*4", domain: "bl.mailspike.net", filter: "127.0.0.[10;11;12]", weight: 4},
		{in: "dnsbl.sorbs.net=127.0.0.[2;3;6;7;10]", domain: "dnsbl.sorbs.net", filter: "127.0.0.[2;3;6;7;10]", weight: 1},
		{in: "x.example=127.0.0.[2;4..6;8]*5", domain: "x.example", filter: "127.0.0.[2;4..6;8]", weight: 5},
		{in: "x.example=[127..127].[0].0.[2]", domain: "x.example", filter: "[127].[0].0.[2]", weight: 1, canon: "x.example=[127].[0].0.[2]"},
		{in: "iadb.isipp.com=127.3.100.[6..200]*-2", domain: "iadb.isipp.com", filter: "127.3.100.[6..200]", weight: -2},
		// Postfix strips [] around the whole pattern.
		{in: "x.example=[127.0.0.2]", domain: "x.example", filter: "127.0.0.2", weight: 1, canon: "x.example=127.0.0.2"},
		{in: "x.example=[127.0.0.[2..3]]*2", domain: "x.example", filter: "127.0.0.[2..3]", weight: 2, canon: "x.example=127.0.0.[2..3]*2"},
		// Normalisation: case, trailing dot, leading zeros, white space around.
		{in: "  ZEN.Spamhaus.ORG.*3 ", domain: "zen.spamhaus.org", weight: 3, canon: "zen.spamhaus.org*3"},
		{in: "x.example=127.000.0.02", domain: "x.example", filter: "127.0.0.2", weight: 1, canon: "x.example=127.0.0.2"},
		// Access keys are labels of the domain.
		{in: "abcdefkey123.zen.dq.spamhaus.net*3", domain: "abcdefkey123.zen.dq.spamhaus.net", weight: 3},
		{in: "_underscore.example", domain: "_underscore.example", weight: 1},
		{in: "localbl", domain: "localbl", weight: 1},
		{in: "x.example*1048576", domain: "x.example", weight: MaxWeight},
		{in: "x.example*-1048576", domain: "x.example", weight: -MaxWeight},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			s, err := ParseSite(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if s.Domain != tt.domain || s.Weight != tt.weight {
				t.Errorf("got domain %q weight %d, want %q %d", s.Domain, s.Weight, tt.domain, tt.weight)
			}
			got := ""
			if s.Filter != nil {
				got = s.Filter.String()
			}
			if got != tt.filter {
				t.Errorf("filter %q, want %q", got, tt.filter)
			}
			want := tt.canon
			if want == "" {
				want = tt.in
			}
			if s.String() != want {
				t.Errorf("String() = %q, want %q", s.String(), want)
			}
		})
	}
}

func TestParseSiteErrors(t *testing.T) {
	tests := []struct {
		in     string
		err    string // full message
		offset int
	}{
		{"zen.spamhaus.org*x", `dnsbl: site "zen.spamhaus.org*x": weight "x" is not an integer`, 17},
		{"zen.spamhaus.org*", `dnsbl: site "zen.spamhaus.org*": missing weight after "*"`, 17},
		{"zen.spamhaus.org*3*2", `dnsbl: site "zen.spamhaus.org*3*2": weight "3*2" is not an integer`, 17},
		{"zen.spamhaus.org*1.5", `dnsbl: site "zen.spamhaus.org*1.5": weight "1.5" is not an integer`, 17},
		{"zen.spamhaus.org* 3", `dnsbl: site "zen.spamhaus.org* 3": weight " 3" is not an integer`, 17},
		// As in Postfix, "*" is split off first: this is a bad weight.
		{"zen*3=127.0.0.2", `dnsbl: site "zen*3=127.0.0.2": weight "3=127.0.0.2" is not an integer`, 4},
		{"x.example*1048577", `dnsbl: site "x.example*1048577": weight "1048577" is out of range -1048576..1048576`, 10},
		{"x.example*99999999999999999999", `dnsbl: site "x.example*99999999999999999999": weight "99999999999999999999" is out of range -1048576..1048576`, 10},
		{"", `dnsbl: site "": empty entry`, 0},
		{"*3", `dnsbl: site "*3": missing DNSBL domain`, 0},
		{"=127.0.0.2", `dnsbl: site "=127.0.0.2": missing DNSBL domain`, 0},
		{".", `dnsbl: site ".": domain "." is the root`, 0},
		{"zen..spamhaus.org", `dnsbl: site "zen..spamhaus.org": domain "zen..spamhaus.org" has an empty label (column 5)`, 4},
		{".zen.spamhaus.org", `dnsbl: site ".zen.spamhaus.org": domain ".zen.spamhaus.org" has an empty label (column 1)`, 0},
		{"zen.spam haus.org", `dnsbl: site "zen.spam haus.org": domain "zen.spam haus.org": invalid character ' ' (column 9)`, 8},
		{"zen.spamhaus.org&key", `dnsbl: site "zen.spamhaus.org&key": domain "zen.spamhaus.org&key": invalid character '&' (column 17)`, 16},
		{"zen.spamhaus.org/key", `dnsbl: site "zen.spamhaus.org/key": domain "zen.spamhaus.org/key": invalid character '/' (column 17)`, 16},
		{"-bl.example", `dnsbl: site "-bl.example": domain "-bl.example" has a label that starts or ends with "-" (column 1)`, 0},
		{"bl-.example", `dnsbl: site "bl-.example": domain "bl-.example" has a label that starts or ends with "-" (column 1)`, 0},
		{"127.0.0.2*3", `dnsbl: site "127.0.0.2*3": domain "127.0.0.2" is numeric: an IP address is not a DNSBL domain`, 8},
		{strings.Repeat("a", 64) + ".example", `dnsbl: site "` + strings.Repeat("a", 64) + `.example": domain "` + strings.Repeat("a", 64) + `.example" has a label longer than 63 characters (column 1)`, 0},
		{strings.Repeat("abcdefghi.", 19) + "example", `dnsbl: site "` + strings.Repeat("abcdefghi.", 19) + `example": domain is 197 characters long, at most 189 leave room for an IPv6 query`, 189},
		// Filters.
		{"x.example=", `dnsbl: site "x.example=": empty filter after "=" (column 11)`, 10},
		{"x.example=127.0.0", `dnsbl: site "x.example=127.0.0": filter "127.0.0" has 3 fields, need 4 (d.d.d.d) (column 18)`, 17},
		{"x.example=127.0.0.", `dnsbl: site "x.example=127.0.0.": need a number 0..255 or "[", found end of filter (column 19)`, 18},
		{"x.example=127.0.0.2.1", `dnsbl: site "x.example=127.0.0.2.1": garbage after the 4th filter field: ".1" (column 20)`, 19},
		{"x.example=127.0.0.256", `dnsbl: site "x.example=127.0.0.256": number 256 is out of range 0..255 (column 19)`, 18},
		{"x.example=127.0.0.[2..1]", `dnsbl: site "x.example=127.0.0.[2..1]": range 2..1 is reversed (need low..high) (column 20)`, 19},
		{"x.example=127.0.0.[2..]", `dnsbl: site "x.example=127.0.0.[2..]": need a number 0..255, found ']' (column 23)`, 22},
		{"x.example=127.0.0.[2", `dnsbl: site "x.example=127.0.0.[2": "[" without closing "]" (column 19)`, 18},
		{"x.example=127.0.0.[]", `dnsbl: site "x.example=127.0.0.[]": need a number 0..255, found ']' (column 20)`, 19},
		{"x.example=127.0.0.[2,4]", `dnsbl: site "x.example=127.0.0.[2,4]": "," inside [] is the pre-2.8 Postfix syntax: separate numbers with ";" (for example [2;4..6]) (column 21)`, 20},
		{"x.example=127.0.0.[!2]", `dnsbl: site "x.example=127.0.0.[!2]": negation '!' is not supported (Postfix has none): list the values to match instead (column 20)`, 19},
		{"x.example=~127.0.0.2", `dnsbl: site "x.example=~127.0.0.2": negation '~' is not supported (Postfix has none): list the values to match instead (column 11)`, 10},
		{"x.example=127.0.[0.255].1", `dnsbl: site "x.example=127.0.[0.255].1": need ";" or "]", found "." (a range is low..high, and [] cannot span fields) (column 19)`, 18},
		{"x.example=127.0.0.3[6..9]", `dnsbl: site "x.example=127.0.0.3[6..9]": garbage after the 4th filter field: "[6..9]" (column 20)`, 19},
		{"x.example=127.0.0.[2-4]", `dnsbl: site "x.example=127.0.0.[2-4]": need ";" or "]", found '-' (column 21)`, 20},
		{"x.example=127.0.0.*", `dnsbl: site "x.example=127.0.0.*": missing weight after "*"`, 19},
		{"x.example=127.0.0.x", `dnsbl: site "x.example=127.0.0.x": need a number 0..255, found 'x' (column 19)`, 18},
		{"x.example=127,0,0,2", `dnsbl: site "x.example=127,0,0,2": need "." between filter fields, found ',' (column 14)`, 13},
		{"x.example=127.0.0.2=3", `dnsbl: site "x.example=127.0.0.2=3": garbage after the 4th filter field: "=3" (column 20)`, 19},
		{"x.example=[127.0.0.2", `dnsbl: site "x.example=[127.0.0.2": need ";" or "]", found "." (a range is low..high, and [] cannot span fields) (column 15)`, 14},
		{"x.example=::1", `dnsbl: site "x.example=::1": need a number 0..255, found ':' (column 11)`, 10},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseSite(tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.err {
				t.Errorf("error\n got %s\nwant %s", err, tt.err)
			}
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%T is not a *SyntaxError", err)
			}
			if se.Offset != tt.offset {
				t.Errorf("offset %d, want %d", se.Offset, tt.offset)
			}
		})
	}
}

func TestParseSites(t *testing.T) {
	// The postscreen_dnsbl_sites value of a widely copied configuration,
	// with main.cf's comma / white space separators.
	list := `zen.spamhaus.org*3
	    bl.mailspike.net*2, b.barracudacentral.org*2,bl.spameatingmonkey.net
	    swl.spamhaus.org*-4
	    list.dnswl.org=127.0.[2..15].0*-2 list.dnswl.org=127.0.[2..15].1*-3
	    list.dnswl.org=127.0.[2..15].[2..3]*-4,,
	    wl.mailspike.net=127.0.0.[17;18]*-1`
	sites, err := ParseSites(list)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range sites {
		got = append(got, s.String())
	}
	want := "zen.spamhaus.org*3 bl.mailspike.net*2 b.barracudacentral.org*2 bl.spameatingmonkey.net swl.spamhaus.org*-4 " +
		"list.dnswl.org=127.0.[2..15].0*-2 list.dnswl.org=127.0.[2..15].1*-3 list.dnswl.org=127.0.[2..15].[2..3]*-4 wl.mailspike.net=127.0.0.[17;18]*-1"
	if strings.Join(got, " ") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, " "), want)
	}

	if s, err := ParseSites(" ,\n"); err != nil || len(s) != 0 {
		t.Errorf("empty list: %v %v", s, err)
	}
	_, err = ParseSites("zen.spamhaus.org*3, bl.example*x")
	if err == nil || err.Error() != `dnsbl: site "bl.example*x": weight "x" is not an integer` {
		t.Errorf("got %v", err)
	}
}

func TestFilterMatch(t *testing.T) {
	tests := []struct {
		filter string
		yes    []string
		no     []string
	}{
		{"127.0.0.2", []string{"127.0.0.2", "::ffff:127.0.0.2"}, []string{"127.0.0.3", "127.0.1.2", "128.0.0.2", "::1"}},
		{"127.0.0.[2..11]", []string{"127.0.0.2", "127.0.0.4", "127.0.0.11"}, []string{"127.0.0.1", "127.0.0.12", "127.0.0.255"}},
		{"127.0.[0..255].[1..3]", []string{"127.0.0.1", "127.0.15.3", "127.0.255.2"}, []string{"127.0.15.0", "127.0.10.4", "127.1.0.1"}},
		{"127.0.0.[17;18]", []string{"127.0.0.17", "127.0.0.18"}, []string{"127.0.0.16", "127.0.0.19"}},
		{"127.0.0.[2;4..6;8]", []string{"127.0.0.2", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.8"}, []string{"127.0.0.3", "127.0.0.7", "127.0.0.9"}},
		{"[0..255].[0..255].[0..255].[0..255]", []string{"0.0.0.0", "255.255.255.255", "127.0.0.2"}, []string{"2001:db8::1"}},
		{"127.0.0.[255]", []string{"127.0.0.255"}, []string{"127.0.0.254"}},
		{"127.0.0.[63;64;127;128;191;192]", []string{"127.0.0.63", "127.0.0.64", "127.0.0.128", "127.0.0.192"}, []string{"127.0.0.62", "127.0.0.65", "127.0.0.190"}},
	}
	for _, tt := range tests {
		s, err := ParseSite("x.example=" + tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range tt.yes {
			if !s.Filter.Match(netip.MustParseAddr(a)) {
				t.Errorf("%s should match %s", tt.filter, a)
			}
		}
		for _, a := range tt.no {
			if s.Filter.Match(netip.MustParseAddr(a)) {
				t.Errorf("%s should not match %s", tt.filter, a)
			}
		}
	}
}

// FuzzParseSite checks that the parser never panics, that whatever it
// accepts is a valid entry that prints and parses back to the same entry,
// and that errors always carry the entry and an offset inside it.
func FuzzParseSite(f *testing.F) {
	for _, s := range []string{
		"zen.spamhaus.org*3",
		"list.dnswl.org=127.0.[0..255].[1..3]*-3",
		"x.example=[127.0.0.[2;4..6]]*2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSite(in)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("%q: %T is not a *SyntaxError", in, err)
			}
			if se.Offset < 0 || se.Offset > len(se.Entry) {
				t.Fatalf("%q: offset %d outside %q", in, se.Offset, se.Entry)
			}
			if !strings.HasPrefix(err.Error(), "dnsbl: site ") {
				t.Fatalf("%q: message %q", in, err)
			}
			return
		}
		if s.Domain == "" || s.Weight > MaxWeight || s.Weight < -MaxWeight {
			t.Fatalf("%q: accepted %+v", in, s)
		}
		if _, _, msg := checkDomain(s.Domain); msg != "" {
			t.Fatalf("%q: accepted domain %q: %s", in, s.Domain, msg)
		}
		out := s.String()
		s2, err := ParseSite(out)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", in, out, err)
		}
		if s2.String() != out {
			t.Fatalf("%q printed as %q, then as %q", in, out, s2.String())
		}
		if (s.Filter == nil) != (s2.Filter == nil) {
			t.Fatalf("%q: filter lost in %q", in, out)
		}
		if s.Filter != nil {
			for v := range 256 {
				a := netip.AddrFrom4([4]byte{127, 0, byte(v), byte(v)})
				if s.Filter.Match(a) != s2.Filter.Match(a) {
					t.Fatalf("%q and %q differ on %s", in, out, a)
				}
			}
		}
	})
}
