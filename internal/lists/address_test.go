package lists

import (
	"errors"
	"strings"
	"testing"
)

func TestAddressMatch(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		addr    string
		want    string // matching entry; "" means no match
	}{
		// user@domain: exact, plus +extension as in postgrey.
		{"full", []string{"john@example.com"}, "john@example.com", "john@example.com"},
		{"full case", []string{"John@Example.COM"}, "JOHN@example.com", "John@Example.COM"},
		{"full ext", []string{"john@example.com"}, "john+lists@example.com", "john@example.com"},
		{"full ext nested", []string{"john@example.com"}, "john+a+b@example.com", "john@example.com"},
		{"full with plus entry", []string{"john+a@example.com"}, "john+a+b@example.com", "john+a@example.com"},
		{"full plus entry not base", []string{"john+a@example.com"}, "john@example.com", ""},
		{"full empty ext", []string{"john@example.com"}, "john+@example.com", ""},
		{"full other user", []string{"john@example.com"}, "johnny@example.com", ""},
		{"full other domain", []string{"john@example.com"}, "john@mx.example.com", ""},
		{"full trailing dot", []string{"john@example.com"}, "john@example.com.", "john@example.com"},

		// user@: the local part at any domain.
		{"local", []string{"postmaster@"}, "postmaster@example.org", "postmaster@"},
		{"local case", []string{"postmaster@"}, "PostMaster@example.org", "postmaster@"},
		{"local ext", []string{"postmaster@"}, "postmaster+x@example.org", "postmaster@"},
		{"local bare", []string{"postmaster@"}, "postmaster", "postmaster@"},
		{"local prefix only", []string{"postmaster@"}, "postmasters@example.org", ""},
		{"local not suffix", []string{"abuse@"}, "noabuse@example.org", ""},

		// @domain: exactly that domain.
		{"at-domain", []string{"@example.com"}, "anyone@example.com", "@example.com"},
		{"at-domain no sub", []string{"@example.com"}, "anyone@mx.example.com", ""},

		// domain: the domain and its subdomains (postgrey: (?:@|\.)domain$).
		{"domain", []string{"example.com"}, "a@example.com", "example.com"},
		{"domain sub", []string{"example.com"}, "a@lists.example.com", "example.com"},
		{"domain boundary", []string{"example.com"}, "a@notexample.com", ""},
		{"domain not in local", []string{"example.com"}, "example.com@example.org", ""},
		{"domain no at", []string{"example.com"}, "example.com", ""},
		{"domain after last at", []string{"example.org"}, `"a@b.example.net"@example.org`, "example.org"},
		{"domain case", []string{"EXAMPLE.com"}, "a@Lists.Example.COM", "EXAMPLE.com"},

		// .domain: subdomains only.
		{"subs", []string{".example.com"}, "a@lists.example.com", ".example.com"},
		{"subs not itself", []string{".example.com"}, "a@example.com", ""},
		{"subs wildcard", []string{"*.example.com"}, "a@x.example.com", "*.example.com"},

		// Regexps on the whole address.
		{"regexp", []string{`/^bounce-\d+@example\.com$/`}, "bounce-42@example.com", `/^bounce-\d+@example\.com$/`},
		{"regexp case", []string{`/^bounce-\d+@example\.com$/`}, "BOUNCE-42@EXAMPLE.COM", `/^bounce-\d+@example\.com$/`},
		{"regexp miss", []string{`/^bounce-\d+@example\.com$/`}, "bounce-x@example.com", ""},

		// Precedence: exact, local part, domain, regexp.
		{"full before domain", []string{"example.com", "a@example.com"}, "a@example.com", "a@example.com"},
		{"deeper domain first", []string{"example.com", "lists.example.com"}, "a@x.lists.example.com", "lists.example.com"},
		{"map before regexp", []string{`/./`, "example.com"}, "a@example.com", "example.com"},

		{"too long", []string{"example.com", "/./"}, strings.Repeat("x", 300) + "@" + strings.Repeat("a.", 10) + "example.com", ""},
		{"long but valid", []string{"example.com"}, strings.Repeat("x", 200) + "@example.com", "example.com"},
		{"null sender", []string{"/.*/", "postmaster@"}, "", ""},
		{"comment", []string{"abuse@ # RFC 2142"}, "abuse@example.net", "abuse@"},
		{"empty list", nil, "a@example.com", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewAddressList(tc.entries)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := l.Match(tc.addr)
			if ok != (tc.want != "") || got != tc.want {
				t.Errorf("Match(%q) = %q, %v; want %q", tc.addr, got, ok, tc.want)
			}
		})
	}
}

func TestAddressNil(t *testing.T) {
	var l *AddressList
	if e, ok := l.Match("postmaster@example.com"); ok || l.Len() != 0 {
		t.Errorf("nil list matched %q", e)
	}
	var zero AddressList
	if e, ok := zero.Match("postmaster@example.com"); ok {
		t.Errorf("zero list matched %q", e)
	}
}

func TestAddressParseErrors(t *testing.T) {
	tests := []struct {
		name, input, want string
	}{
		{"bad regexp", "postmaster@\n/[a-/\n", `rcpt.txt:2: invalid entry "/[a-/": regexp does not compile`},
		{"backreference", `/(a)\1/`, `rcpt.txt:1: invalid entry "/(a)\\1/": regexp does not compile`},
		{"space", "a b@example.com", `rcpt.txt:1: invalid entry "a b@example.com": contains whitespace`},
		{"brackets", "<a@example.com>", `not a bare address`},
		{"list", "a@example.com,b@example.com", `not a bare address`},
		{"two ats", "a@b@example.com", `more than one '@'`},
		{"lone at", "@", `neither local part nor domain`},
		{"bad domain part", "a@exa mple", `contains whitespace`},
		{"bad domain chars", "a@exa!mple.com", `domain part: character '!'`},
		{"tld", "com", `single-label name`},
		{"long local", strings.Repeat("x", 65) + "@", `local part longer than 64 octets`},
		{"sub tld", ".com", `single-label name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAddressList("rcpt.txt", strings.NewReader(tc.input))
			var pe *ParseError
			if err == nil || !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("err = %v, want a *ParseError with a line", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestMergeAddresses(t *testing.T) {
	a, _ := NewAddressList([]string{"postmaster@"})
	b, _ := ParseAddressList("b", strings.NewReader("postmaster@\nexample.com\n"))
	m := MergeAddresses(a, nil, b)
	if e, ok := m.Lookup("postmaster@x.org"); !ok || e.Source != "inline" {
		t.Errorf("Lookup = %+v, %v; want the inline entry", e, ok)
	}
	if e, ok := m.Lookup("x@example.com"); !ok || e != (Entry{"example.com", "b", 2}) {
		t.Errorf("Lookup = %+v, %v", e, ok)
	}
	if _, ok := a.Match("x@example.com"); ok {
		t.Error("merge changed its input")
	}
}
