package resolver

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// FuzzUnescapeTXT checks that TXT data survives a trip through miekg/dns's
// wire format and our unescaping byte for byte.
func FuzzUnescapeTXT(f *testing.F) {
	for _, s := range []string{"", "v=spf1 -all", `say "hi"`, `back\slash`, "\x00\x01\xff", "tab\there", `\065`, "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if len(raw) > 255 {
			raw = raw[:255]
		}
		m := new(dns.Msg)
		m.SetQuestion("x.test.", dns.TypeTXT)
		m.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: "x.test.", Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}}}
		// Pack the raw bytes as one character-string by hand, so that no
		// presentation-format escaping is involved on the way in.
		wire, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		// The empty TXT packs as zero rdata bytes; append ours and fix RDLENGTH.
		wire = append(wire, byte(len(raw)))
		wire = append(wire, raw...)
		rdlen := len(raw) + 1
		wire[len(wire)-rdlen-2] = byte(rdlen >> 8)
		wire[len(wire)-rdlen-1] = byte(rdlen)
		var got dns.Msg
		if err := got.Unpack(wire); err != nil {
			t.Fatalf("unpack: %v", err)
		}
		txt := got.Answer[0].(*dns.TXT).Txt
		if out := unescapeTXT(strings.Join(txt, "")); out != raw {
			t.Errorf("unescapeTXT(%q) = %q, want %q", txt, out, raw)
		}
	})
}

// FuzzNormalize checks that normalize never panics, and that what it
// accepts is canonical and stable.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"example.test", "EXAMPLE.test.", "a..b", "-a", "_dmarc.x", ".", "", "a.b-c.d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, err := normalize(name)
		if err != nil {
			return
		}
		if n != strings.ToLower(n) || strings.HasSuffix(n, ".") || len(n) > 253 {
			t.Errorf("normalize(%q) = %q", name, n)
		}
		if n2, err := normalize(n); err != nil || n2 != n {
			t.Errorf("normalize not idempotent: %q -> %q -> %q, %v", name, n, n2, err)
		}
		if !strings.EqualFold(strings.TrimSuffix(name, "."), n) {
			t.Errorf("normalize(%q) = %q changed more than case", name, n)
		}
		if _, ok := dns.IsDomainName(n + "."); !ok {
			t.Errorf("normalize(%q) = %q, not a domain name for miekg/dns", name, n)
		}
	})
}
