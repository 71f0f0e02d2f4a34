package resolver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"
)

// SPFResolver lets blitiri.com.ar/go/spf do its lookups through a Resolver
// (and so through its cache, coalescing and timeouts). It implements that
// library's DNSResolver interface, which mirrors *net.Resolver:
//
//	type DNSResolver interface {
//		LookupTXT(ctx context.Context, name string) ([]string, error)
//		LookupMX(ctx context.Context, name string) ([]*net.MX, error)
//		LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
//		LookupAddr(ctx context.Context, addr string) (names []string, err error)
//	}
//
// Pass it with spf.WithResolver(r.SPF()), together with spf.WithContext.
// When the module is added, the SPF check should assert
// `var _ spf.DNSResolver = resolver.SPFResolver{}`.
//
// Errors must be what that library expects, because they decide the SPF
// result (RFC 7208 section 5: "if the DNS server returns an error (RCODE
// other than 0 or 3) or the query times out ... temperror"). The library
// type-asserts err.(*net.DNSError) (no unwrapping), then:
//
//   - IsNotFound: the name has no such records. For the policy record itself
//     this gives "none"; for a, mx, ptr and exists it is a void lookup and
//     evaluation continues.
//   - Temporary() (IsTimeout || IsTemporary): "temperror".
//   - any other error: "permerror" (or, in mechanisms, temperror).
//
// So NotFound (NXDOMAIN or NODATA, as *net.Resolver reports both) becomes
// a *net.DNSError with IsNotFound, TempFail one with IsTemporary (and
// IsTimeout for timeouts and deadlines), and an invalid name IsNotFound,
// as *net.Resolver does. Note that *net.Resolver itself reports REFUSED as
// a permanent error; we report it as temporary, as RFC 7208 wants.
//
// Names are returned fully qualified (with the trailing dot), like
// *net.Resolver: the library's ptr mechanism relies on it. LookupIPAddr
// returns the addresses found even if one family failed temporarily, as
// *net.Resolver does by default.
type SPFResolver struct {
	r     *Resolver
	trace *SPFTrace
}

// SPF returns the adapter for blitiri.com.ar/go/spf.
func (r *Resolver) SPF() SPFResolver { return SPFResolver{r: r} }

// SPFTracing returns the adapter, recording in t what the evaluation's
// answers allow: a result computed from them can be reused for as long as
// every one of them could (t.MinTTL), and not at all after a temporary
// failure.
func (r *Resolver) SPFTracing(t *SPFTrace) SPFResolver { return SPFResolver{r: r, trace: t} }

// SPFTrace is what SPFTracing records over one SPF evaluation.
type SPFTrace struct {
	// Lookups is the number of lookups; MinTTL the shortest TTL of their
	// answers (negative answers included: RFC 2308).
	Lookups int
	MinTTL  time.Duration
	// TempFail is set when a lookup failed temporarily.
	TempFail bool
}

func (s SPFResolver) note(res Result) {
	t := s.trace
	if t == nil {
		return
	}
	if res.Status == TempFail {
		t.TempFail = true
	}
	if t.Lookups == 0 || res.TTL < t.MinTTL {
		t.MinTTL = res.TTL
	}
	t.Lookups++
}

const errNoSuchHost = "no such host" // the text *net.Resolver uses

// LookupTXT implements spf.DNSResolver.
func (s SPFResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	res, err := s.r.LookupTXT(ctx, name)
	s.note(res.Result)
	if e := spfError(ctx, name, res.Result, err); e != nil {
		return nil, e
	}
	return res.Records, nil
}

// LookupMX implements spf.DNSResolver.
func (s SPFResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	res, err := s.r.LookupMX(ctx, name)
	s.note(res.Result)
	if e := spfError(ctx, name, res.Result, err); e != nil {
		return nil, e
	}
	out := make([]*net.MX, len(res.Records))
	for i, mx := range res.Records {
		out[i] = &net.MX{Host: fqdn(mx.Host), Pref: mx.Pref}
	}
	return out, nil
}

// LookupIPAddr implements spf.DNSResolver.
func (s SPFResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	res, err := s.r.LookupIP(ctx, host)
	s.note(res.Result)
	if e := spfError(ctx, host, res.Result, err); e != nil {
		return nil, e
	}
	out := make([]net.IPAddr, len(res.Addrs))
	for i, a := range res.Addrs {
		out[i] = net.IPAddr{IP: net.IP(a.AsSlice())}
	}
	return out, nil
}

// LookupAddr implements spf.DNSResolver.
func (s SPFResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: "unrecognized address", Name: addr}
	}
	res, err := s.r.LookupPTR(ctx, ip)
	s.note(res.Result)
	if e := spfError(ctx, addr, res.Result, err); e != nil {
		return nil, e
	}
	out := make([]string, len(res.Names))
	for i, n := range res.Names {
		out[i] = fqdn(n)
	}
	return out, nil
}

// spfError maps a lookup outcome to nil (Found) or the *net.DNSError the
// spf library expects.
func spfError(ctx context.Context, name string, res Result, err error) error {
	switch {
	case err != nil:
		return &net.DNSError{Err: errNoSuchHost, Name: name, IsNotFound: true}
	case res.Status == Found:
		return nil
	case res.Status == NotFound:
		return &net.DNSError{Err: errNoSuchHost, Name: name, IsNotFound: true}
	}
	e := &net.DNSError{Err: "temporary DNS failure: " + res.Reason.String(), Name: name, IsTemporary: true}
	switch res.Reason {
	case ReasonTimeout:
		e.IsTimeout = true
	case ReasonCanceled:
		if cerr := ctx.Err(); cerr != nil {
			e.UnwrapErr = cerr
			e.IsTimeout = errors.Is(cerr, context.DeadlineExceeded)
		}
	}
	return e
}

func fqdn(host string) string {
	if host == "." {
		return host
	}
	return host + "."
}
