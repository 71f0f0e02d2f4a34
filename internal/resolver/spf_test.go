package resolver

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

// spfDNSResolver is the DNSResolver interface of blitiri.com.ar/go/spf,
// copied until that module is a dependency (then assert against it).
type spfDNSResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) (names []string, err error)
}

var _ spfDNSResolver = SPFResolver{}

// spfClass classifies err exactly as blitiri.com.ar/go/spf does (a plain
// type assertion, no unwrapping): IsNotFound first, then Temporary().
func spfClass(err error) string {
	if err == nil {
		return "ok"
	}
	derr, ok := err.(*net.DNSError)
	switch {
	case ok && derr.IsNotFound:
		return "notfound" // policy record: "none"; mechanisms: void lookup
	case ok && derr.Temporary():
		return "temperror"
	}
	return "permerror"
}

func TestSPFAdapter(t *testing.T) {
	srv := dnstest.Start(t, testZone,
		dnstest.ServFail("sf.example.test"),
		dnstest.Refused("ref.example.test"),
		dnstest.Drop("drop.example.test"),
		dnstest.Slow("slow.example.test", 500*time.Millisecond),
	)
	r, _ := newTest(t, Config{Attempts: 1, Timeout: 250 * time.Millisecond}, srv)
	s := r.SPF()
	ctx := context.Background()

	tests := []struct {
		what  string
		call  func(context.Context) ([]string, error)
		class string
		want  []string
	}{
		{"TXT found", txt(s, "example.test"), "ok", []string{"v=spf1 ip4:192.0.2.0/24 -all"}},
		{"TXT NXDOMAIN", txt(s, "nope.example.test"), "notfound", nil},
		{"TXT NODATA", txt(s, "mx1.example.test"), "notfound", nil},
		{"TXT SERVFAIL", txt(s, "sf.example.test"), "temperror", nil},
		{"TXT REFUSED", txt(s, "ref.example.test"), "temperror", nil},
		{"TXT timeout", txt(s, "drop.example.test"), "temperror", nil},
		{"TXT invalid name", txt(s, "a..b"), "notfound", nil},
		{"MX found", mx(s, "example.test"), "ok", []string{"10 mx1.example.test.", "20 mx2.example.test."}},
		{"MX null", mx(s, "nullmx.example.test"), "ok", []string{"0 ."}},
		{"MX NODATA", mx(s, "nomx.example.test"), "notfound", nil},
		{"MX SERVFAIL", mx(s, "sf.example.test"), "temperror", nil},
		{"IP found", ipaddr(s, "example.test."), "ok", []string{"192.0.2.1", "2001:db8::1"}},
		{"IP NXDOMAIN", ipaddr(s, "nope.example.test"), "notfound", nil},
		{"IP root", ipaddr(s, "."), "notfound", nil},
		{"IP timeout", ipaddr(s, "drop.example.test"), "temperror", nil},
		{"PTR found", ptr(s, "192.0.2.10"), "ok", []string{"mx1.example.test."}},
		{"PTR v6", ptr(s, "2001:db8::1"), "ok", []string{"example.test."}},
		{"PTR NXDOMAIN", ptr(s, "192.0.2.99"), "notfound", nil},
		{"PTR bad address", ptr(s, "not-an-ip"), "permerror", nil},
	}
	for _, tt := range tests {
		got, err := tt.call(ctx)
		if c := spfClass(err); c != tt.class {
			t.Errorf("%s: class %s (%v), want %s", tt.what, c, err, tt.class)
		}
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.what, got, tt.want)
		}
	}

	// Timeouts and deadlines say so, and a deadline unwraps to the context
	// error.
	_, err := s.LookupTXT(ctx, "drop.example.test")
	if derr, ok := err.(*net.DNSError); !ok || !derr.IsTimeout {
		t.Errorf("timeout: %#v", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err = s.LookupTXT(dctx, "slow.example.test")
	if derr, ok := err.(*net.DNSError); !ok || !derr.IsTimeout || !errors.Is(err, context.DeadlineExceeded) || spfClass(err) != "temperror" {
		t.Errorf("deadline: %#v", err)
	}
}

func txt(s SPFResolver, name string) func(context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) { return s.LookupTXT(ctx, name) }
}

func mx(s SPFResolver, name string) func(context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		mxs, err := s.LookupMX(ctx, name)
		var out []string
		for _, m := range mxs {
			out = append(out, strconv.Itoa(int(m.Pref))+" "+m.Host)
		}
		return out, err
	}
}

func ipaddr(s SPFResolver, name string) func(context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) {
		addrs, err := s.LookupIPAddr(ctx, name)
		var out []string
		for _, a := range addrs {
			out = append(out, a.IP.String())
		}
		return out, err
	}
}

func ptr(s SPFResolver, addr string) func(context.Context) ([]string, error) {
	return func(ctx context.Context) ([]string, error) { return s.LookupAddr(ctx, addr) }
}
