package resolver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Defaults for the zero values of Config.
const (
	DefaultResolvConf  = "/etc/resolv.conf"
	DefaultTimeout     = 2 * time.Second
	DefaultAttempts    = 2
	DefaultCacheSize   = 100000
	DefaultMaxTTL      = 24 * time.Hour
	DefaultNegativeTTL = time.Hour
	DefaultServFailTTL = 30 * time.Second

	// MaxServFailTTL is the longest RFC 2308 section 7 allows for caching a
	// server failure.
	MaxServFailTTL = 5 * time.Minute

	// UDPSize is the EDNS0 payload size we advertise (RFC 6891 section
	// 6.2.5; 1232 bytes is the DNS Flag Day 2020 value that avoids IP
	// fragmentation on common paths).
	UDPSize = 1232

	maxCNAMEHops = 16
)

// Misuse errors. DNS trouble is never reported as an error (see the package
// documentation).
var (
	ErrInvalidName = errors.New("resolver: invalid domain name")
	ErrInvalidAddr = errors.New("resolver: invalid IP address")
)

// Config configures a Resolver. The zero value is usable: every field has a
// default.
type Config struct {
	// Servers are recursive resolvers, "ip" or "ip:port" ("[v6]:port");
	// tried in order, starting with the last one that answered. Default: the
	// nameserver lines of ResolvConf.
	Servers []string
	// ResolvConf is read when Servers is empty. Default /etc/resolv.conf. A
	// file without nameserver lines means 127.0.0.1:53 and [::1]:53, as in
	// the C library. Its timeout/attempts options are not used.
	ResolvConf string
	// Timeout for one attempt (one query to one server; a TCP retry after
	// truncation gets its own Timeout). Default 2 s.
	Timeout time.Duration
	// Attempts is the total number of queries for one lookup, rotating
	// over the servers. Default 2.
	Attempts int
	// CacheSize is the number of answers kept (one per name and type).
	// Default 10000; negative disables caching.
	CacheSize int
	// MinTTL and MaxTTL clamp the TTL of cached answers (positive, and
	// negative answers that carry an SOA). Defaults 0 and 24 h.
	MinTTL, MaxTTL time.Duration
	// NegativeTTL caps the caching of NXDOMAIN/NODATA. Default 1 h.
	NegativeTTL time.Duration
	// ServFailTTL is how long a failure (SERVFAIL, REFUSED, timeout,
	// network error) is cached. Default 30 s, at most 5 minutes (RFC 2308
	// section 7); negative disables caching of failures.
	ServFailTTL time.Duration
	// Now is the clock used for cache expiry (tests). Default time.Now.
	Now func() time.Time
}

// Resolver is a caching DNS client. It is safe for concurrent use.
type Resolver struct {
	servers  []string
	timeout  time.Duration
	attempts int
	minTTL   time.Duration
	maxTTL   time.Duration
	negTTL   time.Duration
	failTTL  time.Duration
	now      func() time.Time

	udp, tcp *dns.Client

	cache *cache // nil: caching disabled

	flightMu sync.Mutex
	flights  map[key]*flight

	preferred atomic.Uint32 // index of the server that answered last
	brk       breaker       // fails fast while no server answers

	stats counters
}

// flight is one query in progress; everyone asking the same question waits
// on done.
type flight struct {
	done chan struct{}
	ans  *answer
}

// New returns a Resolver for cfg.
func New(cfg Config) (*Resolver, error) {
	r := &Resolver{
		timeout:  cfg.Timeout,
		attempts: cfg.Attempts,
		minTTL:   cfg.MinTTL,
		maxTTL:   cfg.MaxTTL,
		negTTL:   cfg.NegativeTTL,
		failTTL:  cfg.ServFailTTL,
		now:      cfg.Now,
		flights:  map[key]*flight{},
	}
	switch {
	case r.timeout < 0:
		return nil, fmt.Errorf("resolver: negative Timeout %v", r.timeout)
	case r.timeout == 0:
		r.timeout = DefaultTimeout
	}
	switch {
	case r.attempts < 0:
		return nil, fmt.Errorf("resolver: negative Attempts %d", r.attempts)
	case r.attempts == 0:
		r.attempts = DefaultAttempts
	}
	if r.maxTTL == 0 {
		r.maxTTL = DefaultMaxTTL
	}
	if r.minTTL < 0 || r.maxTTL < 0 || r.minTTL > r.maxTTL {
		return nil, fmt.Errorf("resolver: bad TTL clamps MinTTL %v MaxTTL %v", r.minTTL, r.maxTTL)
	}
	switch {
	case r.negTTL < 0:
		return nil, fmt.Errorf("resolver: negative NegativeTTL %v", r.negTTL)
	case r.negTTL == 0:
		r.negTTL = DefaultNegativeTTL
	}
	switch {
	case r.failTTL < 0:
		r.failTTL = 0
	case r.failTTL == 0:
		r.failTTL = DefaultServFailTTL
	case r.failTTL > MaxServFailTTL:
		r.failTTL = MaxServFailTTL
	}
	if r.now == nil {
		r.now = time.Now
	}
	switch {
	case cfg.CacheSize == 0:
		r.cache = newCache(DefaultCacheSize)
	case cfg.CacheSize > 0:
		r.cache = newCache(cfg.CacheSize)
	}

	servers := cfg.Servers
	if len(servers) == 0 {
		var err error
		if servers, err = systemServers(cfg.ResolvConf); err != nil {
			return nil, err
		}
	}
	for _, s := range servers {
		ap, err := parseServer(s)
		if err != nil {
			return nil, err
		}
		r.servers = append(r.servers, ap)
	}

	r.udp = &dns.Client{Net: "udp", UDPSize: UDPSize, Timeout: r.timeout}
	r.tcp = &dns.Client{Net: "tcp", Timeout: r.timeout}
	return r, nil
}

// Servers returns the servers in use, as "ip:port".
func (r *Resolver) Servers() []string { return append([]string(nil), r.servers...) }

// systemServers reads the nameserver lines of a resolv.conf(5) file.
func systemServers(path string) ([]string, error) {
	if path == "" {
		path = DefaultResolvConf
	}
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("resolver: reading %s: %w", path, err)
	}
	var out []string
	for _, s := range cc.Servers {
		// Skip what is not an IP address, as the C library does.
		if a, err := netip.ParseAddr(s); err == nil {
			out = append(out, netip.AddrPortFrom(a, portOf(cc.Port)).String())
		}
	}
	if len(out) == 0 {
		out = []string{"127.0.0.1:53", "[::1]:53"}
	}
	return out, nil
}

func portOf(s string) uint16 {
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || p == 0 {
		return 53
	}
	return uint16(p)
}

// parseServer accepts "ip", "ip:port" and "[ipv6]:port" and returns
// "ip:port". Host names are refused: resolving them would need DNS.
func parseServer(s string) (string, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, 53).String(), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 {
		return "", fmt.Errorf("resolver: server %q is not an IP address or IP:port", s)
	}
	return ap.String(), nil
}

// LookupMX returns the MX records of name.
func (r *Resolver) LookupMX(ctx context.Context, name string) (MXResult, error) {
	a, cached, err := r.lookup(ctx, name, dns.TypeMX)
	if err != nil {
		return MXResult{}, err
	}
	res := MXResult{Result: a.result(r.now(), cached)}
	if len(a.mx) > 0 {
		res.Records = append([]MX(nil), a.mx...)
		res.Null = len(a.mx) == 1 && a.mx[0].Pref == 0 && a.mx[0].Host == "."
	}
	return res, nil
}

// LookupA returns the IPv4 addresses of name.
func (r *Resolver) LookupA(ctx context.Context, name string) (IPResult, error) {
	return r.lookupAddrs(ctx, name, dns.TypeA)
}

// LookupAAAA returns the IPv6 addresses of name.
func (r *Resolver) LookupAAAA(ctx context.Context, name string) (IPResult, error) {
	return r.lookupAddrs(ctx, name, dns.TypeAAAA)
}

func (r *Resolver) lookupAddrs(ctx context.Context, name string, qtype uint16) (IPResult, error) {
	a, cached, err := r.lookup(ctx, name, qtype)
	if err != nil {
		return IPResult{}, err
	}
	return ipResult(a, r.now(), cached), nil
}

func ipResult(a *answer, now time.Time, cached bool) IPResult {
	res := IPResult{Result: a.result(now, cached)}
	if len(a.addrs) > 0 {
		res.Addrs = append([]netip.Addr(nil), a.addrs...)
	}
	return res
}

// LookupIP looks up A and AAAA in parallel and merges them (IPv4 first).
// Status is Found when either family has addresses (Partial tells whether
// the other one failed temporarily), TempFail when neither has and either
// failed, NotFound otherwise (NXDomain when either reply said NXDOMAIN).
// TTL is the smaller of the two.
func (r *Resolver) LookupIP(ctx context.Context, name string) (IPResult, error) {
	n, err := normalize(name)
	if err != nil {
		return IPResult{}, err
	}
	if r.cache != nil {
		// Fast path: both answers cached, no goroutine needed.
		now := r.now()
		a4 := r.cache.get(key{n, dns.TypeA}, now)
		a6 := r.cache.get(key{n, dns.TypeAAAA}, now)
		if a4 != nil && a6 != nil {
			r.stats.lookups.Add(2)
			r.stats.cacheHits.Add(2)
			r.count(a4)
			r.count(a6)
			return mergeIP(ipResult(a4, now, true), ipResult(a6, now, true)), nil
		}
	}
	var v6 IPResult
	done := make(chan struct{})
	go func() {
		defer close(done)
		v6, _ = r.LookupAAAA(ctx, n)
	}()
	v4, _ := r.LookupA(ctx, n)
	<-done
	return mergeIP(v4, v6), nil
}

func mergeIP(v4, v6 IPResult) IPResult {
	out := IPResult{Addrs: append(v4.Addrs, v6.Addrs...)}
	out.TTL = min(v4.TTL, v6.TTL)
	out.Cached = v4.Cached && v6.Cached
	switch {
	case len(out.Addrs) > 0:
		out.Status = Found
		out.Rcode = dns.RcodeSuccess
		out.Partial = v4.Status == TempFail || v6.Status == TempFail
		if out.Partial {
			// Only the answer we have counts for how long it holds.
			if v4.Status == Found {
				out.TTL = v4.TTL
			} else {
				out.TTL = v6.TTL
			}
		}
	case v4.Status == TempFail:
		out.Status, out.Rcode, out.Reason = TempFail, v4.Rcode, v4.Reason
	case v6.Status == TempFail:
		out.Status, out.Rcode, out.Reason = TempFail, v6.Rcode, v6.Reason
	default:
		out.Status = NotFound
		out.NXDomain = v4.NXDomain || v6.NXDomain
		out.Rcode = v4.Rcode
		if v6.NXDomain {
			out.Rcode = v6.Rcode
		}
	}
	if len(out.Addrs) == 0 {
		out.Addrs = nil
	}
	return out
}

// LookupPTR returns the names of ip (reverse DNS, RFC 1035 section 3.5 and
// RFC 3596 section 2.5). IPv4-mapped IPv6 addresses are looked up as IPv4.
func (r *Resolver) LookupPTR(ctx context.Context, ip netip.Addr) (PTRResult, error) {
	if !ip.IsValid() {
		return PTRResult{}, ErrInvalidAddr
	}
	a, cached, err := r.lookup(ctx, reverseName(ip), dns.TypePTR)
	if err != nil {
		return PTRResult{}, err
	}
	res := PTRResult{Result: a.result(r.now(), cached)}
	if len(a.names) > 0 {
		res.Names = append([]string(nil), a.names...)
	}
	return res, nil
}

// LookupTXT returns the TXT records of name.
func (r *Resolver) LookupTXT(ctx context.Context, name string) (TXTResult, error) {
	a, cached, err := r.lookup(ctx, name, dns.TypeTXT)
	if err != nil {
		return TXTResult{}, err
	}
	res := TXTResult{Result: a.result(r.now(), cached)}
	if len(a.txt) > 0 {
		res.Records = append([]string(nil), a.txt...)
	}
	return res, nil
}

// lookup answers (name, qtype) from the cache, from a query already in
// flight, or by starting one.
func (r *Resolver) lookup(ctx context.Context, name string, qtype uint16) (*answer, bool, error) {
	n, err := normalize(name)
	if err != nil {
		return nil, false, err
	}
	k := key{n, qtype}
	r.stats.lookups.Add(1)
	if r.cache != nil {
		if a := r.cache.get(k, r.now()); a != nil {
			r.stats.cacheHits.Add(1)
			return r.count(a), true, nil
		}
	}
	if ctx.Err() != nil {
		return r.count(canceled), false, nil
	}

	r.flightMu.Lock()
	f, ok := r.flights[k]
	if ok {
		r.stats.coalesced.Add(1)
	} else {
		// The flight for k may have finished between our cache miss and
		// taking the lock; it stores its answer before leaving flights, so
		// look again to avoid a second query.
		if r.cache != nil {
			if a := r.cache.get(k, r.now()); a != nil {
				r.flightMu.Unlock()
				r.stats.cacheHits.Add(1)
				return r.count(a), true, nil
			}
		}
		f = &flight{done: make(chan struct{})}
		r.flights[k] = f
		go r.fly(k, f)
	}
	r.flightMu.Unlock()

	select {
	case <-f.done:
		return r.count(f.ans), false, nil
	case <-ctx.Done():
		return r.count(canceled), false, nil
	}
}

func (r *Resolver) count(a *answer) *answer {
	if a.status == TempFail {
		r.stats.tempFails.Add(1)
	}
	return a
}

// fly resolves k, caches the answer and releases the waiters. It does not
// depend on any caller's context: attempts are bounded by r.timeout.
func (r *Resolver) fly(k key, f *flight) {
	a := r.resolve(k)
	if r.cache != nil && !a.expires.IsZero() {
		if r.cache.put(k, a, r.now()) {
			r.stats.evictions.Add(1)
		}
	}
	r.flightMu.Lock()
	delete(r.flights, k)
	r.flightMu.Unlock()
	f.ans = a
	close(f.done)
}

// Stats are counters since the Resolver was created.
type Stats struct {
	Lookups      uint64 // lookups asked for (LookupIP counts two)
	CacheHits    uint64 // answered from the cache
	Coalesced    uint64 // joined an identical query already in flight
	Queries      uint64 // messages sent to servers (retries and TCP included)
	TCPFallbacks uint64 // truncated UDP replies retried over TCP
	Timeouts     uint64 // attempts that got no reply in time
	TempFails    uint64 // lookups whose result was TempFail
	Evictions    uint64 // cached answers dropped to make room
	FastFails    uint64 // lookups failed at once because no server was answering
	CacheEntries int    // answers held now (some possibly expired)
}

type counters struct {
	lookups, cacheHits, coalesced, queries, tcp, timeouts, tempFails, evictions, fastFails atomic.Uint64
}

// Stats returns a snapshot of the counters.
func (r *Resolver) Stats() Stats {
	s := Stats{
		Lookups:      r.stats.lookups.Load(),
		CacheHits:    r.stats.cacheHits.Load(),
		Coalesced:    r.stats.coalesced.Load(),
		Queries:      r.stats.queries.Load(),
		TCPFallbacks: r.stats.tcp.Load(),
		Timeouts:     r.stats.timeouts.Load(),
		TempFails:    r.stats.tempFails.Load(),
		Evictions:    r.stats.evictions.Load(),
		FastFails:    r.stats.fastFails.Load(),
	}
	if r.cache != nil {
		s.CacheEntries = r.cache.len()
	}
	return s
}
