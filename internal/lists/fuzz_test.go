package lists

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
	"testing"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/ (real postgrey list
// excerpts among them); the shipped defaults are added here so that the
// seeds follow the file as it changes.

func FuzzParseClientList(f *testing.F) {
	f.Add([]byte(defaultClientsText))
	f.Fuzz(func(t *testing.T, data []byte) {
		const src = "fuzz.txt"
		l, err := ParseClientList(src, bytes.NewReader(data))
		if err != nil {
			checkParseError(t, src, err)
			return
		}
		if got, want := l.Len(), countEntries(data); got != want {
			t.Fatalf("Len = %d, want %d meaningful lines", got, want)
		}
		// Each entry matches what it names.
		for _, r := range l.rules {
			var ip netip.Addr
			name := ""
			switch {
			case r.re != nil:
				continue
			case r.domain != "" && r.form == formSelf:
				name = r.domain
			case r.domain != "":
				name = "x." + r.domain
			default:
				ip = r.prefix.Addr()
			}
			if _, ok := l.Match(ip, name); !ok {
				t.Fatalf("entry %s does not match %v %q", r.entry, ip, name)
			}
		}
		// Arbitrary input as a client name must not panic, and the
		// placeholder for unverified clients never matches a name.
		for _, ln := range strings.Split(string(data), "\n") {
			l.Match(netip.Addr{}, ln)
		}
		if e, ok := l.Match(netip.Addr{}, "unknown"); ok {
			t.Fatalf("unknown matched %q", e)
		}
	})
}

func FuzzParseAddressList(f *testing.F) {
	f.Add([]byte(defaultRecipientsText))
	f.Fuzz(func(t *testing.T, data []byte) {
		const src = "fuzz.txt"
		l, err := ParseAddressList(src, bytes.NewReader(data))
		if err != nil {
			checkParseError(t, src, err)
			return
		}
		if got, want := l.Len(), countEntries(data); got != want {
			t.Fatalf("Len = %d, want %d meaningful lines", got, want)
		}
		for _, r := range l.rules {
			var a string
			switch r.kind {
			case addrRegexp:
				continue
			case addrFull:
				a = r.key
			case addrLocal:
				a = r.key + "@example.com"
			case addrAtDomain, addrDomain:
				a = "x@" + r.key
			case addrSubdomains:
				a = "x@y." + r.key
			}
			if _, ok := l.Match(a); !ok {
				t.Fatalf("entry %s does not match %q", r.entry, a)
			}
		}
		for _, ln := range strings.Split(string(data), "\n") {
			l.Match(ln)
		}
		if e, ok := l.Match(""); ok {
			t.Fatalf("null sender matched %q", e)
		}
	})
}

// checkParseError asserts the error contract: every reported problem is a
// *ParseError from src with a line number, rendered as "src:LINE: ".
func checkParseError(t *testing.T, src string, err error) {
	t.Helper()
	errs := joined(err)
	if len(errs) == 0 || len(errs) > maxReported+1 {
		t.Fatalf("%d errors: %v", len(errs), err)
	}
	for _, e := range errs {
		pe, ok := e.(*ParseError)
		if !ok {
			t.Fatalf("%T is not a *ParseError: %v", e, e)
		}
		if pe.Source != src || pe.Line < 1 || pe.Reason == "" {
			t.Fatalf("incomplete error %+v", pe)
		}
		if prefix := fmt.Sprintf("%s:%d: ", src, pe.Line); !strings.HasPrefix(pe.Error(), prefix) {
			t.Fatalf("error %q does not start with %q", pe, prefix)
		}
	}
}

// countEntries counts the lines a list file has entries on, independently
// of scanLines: split on LF, ignore comments and blank lines.
func countEntries(data []byte) int {
	n := 0
	for i, ln := range strings.Split(string(data), "\n") {
		if i == 0 {
			ln = strings.TrimPrefix(ln, "\uFEFF")
		}
		if j := strings.IndexByte(ln, '#'); j >= 0 {
			ln = ln[:j]
		}
		if strings.TrimSpace(ln) != "" {
			n++
		}
	}
	return n
}
