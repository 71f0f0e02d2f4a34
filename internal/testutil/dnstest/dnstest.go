// Package dnstest runs a small authoritative DNS server on loopback for tests.
//
// Tests must never reach the internet, so every DNS-based check is tested
// against zones served by this package on 127.0.0.1 (UDP and TCP on the same
// random port). The data is an RFC 1035 master file (section 5): several
// zones may be given in one text with $ORIGIN, and $TTL is honoured.
//
// Answers follow what a recursive resolver would return for that data:
//
//   - exact matches, with CNAME chains followed inside the served data
//     (RFC 1034 section 4.3.2);
//   - NXDOMAIN when the name does not exist and NODATA (NOERROR, empty answer)
//     when it exists without the asked type; both carry the zone's SOA in the
//     authority section so that the client can cache them (RFC 2308 section 3);
//   - empty non-terminals (e.g. 113.0.203.in-addr.arpa when only
//     10.113.0.203.in-addr.arpa has data) are NODATA, not NXDOMAIN (RFC 8020);
//   - simple wildcards ("*.dnsbl.example.") are expanded (RFC 4592);
//   - names outside every served zone get REFUSED;
//   - UDP answers larger than the client's buffer (512 bytes, or the EDNS0
//     size of RFC 6891) are truncated with the TC bit set.
//
// Trouble can be simulated per name (or for every name with "*"): SERVFAIL,
// REFUSED, no answer at all (the client times out), TC over UDP (the client
// must retry over TCP), and a delay before answering.
package dnstest

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// AnyName, given as the name of an Option, applies the trouble to every
// query; a per-name setting takes precedence over it.
const AnyName = "*"

type fault uint8

const (
	faultNone fault = iota
	faultServFail
	faultRefused
	faultDrop
	faultTruncate
	faultNoEDNS
)

type behaviour struct {
	fault fault
	delay time.Duration
}

// Option configures trouble for a name. Names are case-insensitive and may
// be given with or without the trailing dot.
type Option func(*Server)

// ServFail makes the server answer SERVFAIL for name.
func ServFail(name string) Option { return setFault(name, faultServFail) }

// Refused makes the server answer REFUSED for name.
func Refused(name string) Option { return setFault(name, faultRefused) }

// Drop makes the server never answer queries for name, over UDP or TCP, so
// that the client times out.
func Drop(name string) Option { return setFault(name, faultDrop) }

// Truncate makes the server answer UDP queries for name with an empty,
// truncated (TC) message; the full answer is only available over TCP.
func Truncate(name string) Option { return setFault(name, faultTruncate) }

// NoEDNS makes the server behave like one that predates EDNS0 for name: it
// answers FORMERR, without an OPT record, to queries that carry one (RFC 6891
// section 7), and normally to queries without.
func NoEDNS(name string) Option { return setFault(name, faultNoEDNS) }

// Slow delays every answer for name by d (it still answers afterwards,
// unless another option says otherwise).
func Slow(name string, d time.Duration) Option {
	return func(s *Server) {
		b := s.behaviour[canon(name)]
		b.delay = d
		s.behaviour[canon(name)] = b
	}
}

// Heal removes every fault and delay configured for name.
func Heal(name string) Option {
	return func(s *Server) { delete(s.behaviour, canon(name)) }
}

func setFault(name string, f fault) Option {
	return func(s *Server) {
		b := s.behaviour[canon(name)]
		b.fault = f
		s.behaviour[canon(name)] = b
	}
}

type queryKey struct {
	name  string
	qtype uint16
}

// Server is a running test DNS server. It is stopped by t.Cleanup.
type Server struct {
	t    testing.TB
	addr string

	udp, tcp *dns.Server
	closed   chan struct{}

	mu         sync.Mutex
	data       *zoneData
	behaviour  map[string]behaviour
	queries    map[queryKey]int
	tcpQueries map[queryKey]int
}

// Start parses zone, starts a server for it on 127.0.0.1 (UDP and TCP, same
// random port) and registers its shutdown with t.Cleanup. It fails the test
// if the zone does not parse or the server cannot start.
func Start(t testing.TB, zone string, opts ...Option) *Server {
	t.Helper()
	data, err := parseZone(zone)
	if err != nil {
		t.Fatalf("dnstest: %v", err)
	}
	s := &Server{
		t:          t,
		closed:     make(chan struct{}),
		data:       data,
		behaviour:  map[string]behaviour{},
		queries:    map[queryKey]int{},
		tcpQueries: map[queryKey]int{},
	}
	for _, o := range opts {
		o(s)
	}

	pc, ln, err := listenLoopback()
	if err != nil {
		t.Fatalf("dnstest: %v", err)
	}
	s.addr = pc.LocalAddr().String()

	udpUp, tcpUp := make(chan struct{}), make(chan struct{})
	s.udp = &dns.Server{PacketConn: pc, Handler: s, NotifyStartedFunc: func() { close(udpUp) }}
	s.tcp = &dns.Server{Listener: ln, Handler: s, NotifyStartedFunc: func() { close(tcpUp) },
		// Close idle TCP connections quickly so that shutdown is fast.
		IdleTimeout: func() time.Duration { return time.Second }}
	udpDone, tcpDone := make(chan error, 1), make(chan error, 1)
	go func() { udpDone <- s.udp.ActivateAndServe() }()
	go func() { tcpDone <- s.tcp.ActivateAndServe() }()
	for _, c := range []struct {
		up   chan struct{}
		done chan error
	}{{udpUp, udpDone}, {tcpUp, tcpDone}} {
		select {
		case <-c.up:
		case err := <-c.done:
			t.Fatalf("dnstest: server did not start: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatalf("dnstest: server did not start within 5s")
		}
	}

	t.Cleanup(func() {
		close(s.closed)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.udp.ShutdownContext(ctx)
		_ = s.tcp.ShutdownContext(ctx)
	})
	return s
}

// listenLoopback opens UDP and TCP listeners on the same random loopback port.
func listenLoopback() (net.PacketConn, net.Listener, error) {
	var lastErr error
	for range 20 {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		ln, err := net.Listen("tcp4", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			return pc, ln, nil
		}
		lastErr = err
		pc.Close()
	}
	return nil, nil, fmt.Errorf("no loopback port free for both UDP and TCP: %v", lastErr)
}

// Addr returns the server's address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// Set replaces the served data with zone. It fails the test if zone does not
// parse.
func (s *Server) Set(zone string) {
	s.t.Helper()
	data, err := parseZone(zone)
	if err != nil {
		s.t.Fatalf("dnstest: %v", err)
	}
	s.mu.Lock()
	s.data = data
	s.mu.Unlock()
}

// Apply changes the simulated trouble at run time (see ServFail, Heal...).
func (s *Server) Apply(opts ...Option) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range opts {
		o(s)
	}
}

// Queries returns how many queries for (name, qtype) the server received,
// over UDP and TCP, whatever it did with them.
func (s *Server) Queries(name string, qtype uint16) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[queryKey{canon(name), qtype}]
}

// TCPQueries returns how many of those queries came over TCP.
func (s *Server) TCPQueries(name string, qtype uint16) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tcpQueries[queryKey{canon(name), qtype}]
}

// TotalQueries returns the number of queries received for any name.
func (s *Server) TotalQueries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.queries {
		n += c
	}
	return n
}

// ServeDNS implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	_, overTCP := w.LocalAddr().(*net.TCPAddr)
	resp := new(dns.Msg)
	if len(req.Question) != 1 || req.Opcode != dns.OpcodeQuery {
		resp.SetRcodeFormatError(req)
		_ = w.WriteMsg(resp)
		return
	}
	q := req.Question[0]
	k := queryKey{canon(q.Name), q.Qtype}

	s.mu.Lock()
	s.queries[k]++
	if overTCP {
		s.tcpQueries[k]++
	}
	b, ok := s.behaviour[k.name]
	if !ok {
		b = s.behaviour[AnyName]
	}
	data := s.data
	s.mu.Unlock()

	if b.delay > 0 {
		select {
		case <-time.After(b.delay):
		case <-s.closed:
			return
		}
	}

	resp.SetReply(req)
	resp.RecursionAvailable = true // we stand in for a recursive resolver
	switch b.fault {
	case faultDrop:
		return
	case faultServFail:
		resp.Rcode = dns.RcodeServerFailure
	case faultRefused:
		resp.Rcode = dns.RcodeRefused
	case faultNoEDNS:
		if req.IsEdns0() != nil {
			resp.Rcode = dns.RcodeFormatError
			_ = w.WriteMsg(resp)
			return
		}
		data.answer(resp, q)
	case faultTruncate:
		if !overTCP {
			resp.Truncated = true
			break
		}
		fallthrough
	default:
		data.answer(resp, q)
	}

	size := dns.MinMsgSize
	if opt := req.IsEdns0(); opt != nil {
		resp.SetEdns0(1232, false)
		size = max(int(opt.UDPSize()), dns.MinMsgSize)
	}
	if !overTCP {
		resp.Truncate(size)
	}
	_ = w.WriteMsg(resp)
}

func canon(name string) string {
	if name == AnyName {
		return name
	}
	return strings.ToLower(dns.Fqdn(name))
}

// zoneData is the parsed content of one or more zones.
type zoneData struct {
	rrs    map[string]map[uint16][]dns.RR // owner -> type -> RRset
	exists map[string]bool                // owners and empty non-terminals
	soa    map[string]*dns.SOA            // zone apex -> SOA
}

func parseZone(text string) (*zoneData, error) {
	z := &zoneData{
		rrs:    map[string]map[uint16][]dns.RR{},
		exists: map[string]bool{},
		soa:    map[string]*dns.SOA{},
	}
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "zone")
	var owners []string
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := canon(rr.Header().Name)
		t := rr.Header().Rrtype
		if z.rrs[name] == nil {
			z.rrs[name] = map[uint16][]dns.RR{}
			owners = append(owners, name)
		}
		z.rrs[name][t] = append(z.rrs[name][t], rr)
		if soa, ok := rr.(*dns.SOA); ok {
			z.soa[name] = soa
		}
	}
	if err := zp.Err(); err != nil {
		return nil, fmt.Errorf("zone: %v", err)
	}
	// Every owner exists, and so does every name between it and its apex
	// (empty non-terminals).
	for _, name := range owners {
		apex, _ := z.apex(name)
		if apex == "" {
			return nil, fmt.Errorf("zone: %s has no enclosing SOA", name)
		}
		for n := name; ; n = parent(n) {
			z.exists[n] = true
			if n == apex {
				break
			}
		}
	}
	return z, nil
}

// apex returns the closest enclosing zone apex of name and its SOA.
func (z *zoneData) apex(name string) (string, *dns.SOA) {
	for n := name; ; n = parent(n) {
		if soa, ok := z.soa[n]; ok {
			return n, soa
		}
		if n == "." {
			return "", nil
		}
	}
}

func parent(name string) string {
	if name == "." {
		return "."
	}
	i := strings.IndexByte(name, '.')
	if i == len(name)-1 {
		return "."
	}
	return name[i+1:]
}

// rrsets returns the data for name, expanding a wildcard at the closest
// encloser when name itself does not exist (RFC 4592 section 3.3.1).
func (z *zoneData) rrsets(name, apex string) (map[uint16][]dns.RR, bool) {
	if z.exists[name] {
		return z.rrs[name], true
	}
	for n := parent(name); ; n = parent(n) {
		if z.exists[n] {
			if wild, ok := z.rrs["*."+n]; ok {
				out := make(map[uint16][]dns.RR, len(wild))
				for t, rrs := range wild {
					for _, rr := range rrs {
						c := dns.Copy(rr)
						c.Header().Name = name
						out[t] = append(out[t], c)
					}
				}
				return out, true
			}
			return nil, false
		}
		if n == apex || n == "." {
			return nil, false
		}
	}
}

// answer fills resp for question q.
func (z *zoneData) answer(resp *dns.Msg, q dns.Question) {
	if q.Qclass != dns.ClassINET {
		resp.Rcode = dns.RcodeRefused
		return
	}
	name := canon(q.Name)
	apex, soa := z.apex(name)
	if soa == nil {
		resp.Rcode = dns.RcodeRefused
		return
	}
	resp.Authoritative = true
	for range 16 {
		sets, ok := z.rrsets(name, apex)
		if !ok {
			resp.Rcode = dns.RcodeNameError
			resp.Ns = []dns.RR{dns.Copy(soa)}
			return
		}
		if rrs := sets[q.Qtype]; len(rrs) > 0 {
			for _, rr := range rrs {
				resp.Answer = append(resp.Answer, dns.Copy(rr))
			}
			return
		}
		cn := sets[dns.TypeCNAME]
		if q.Qtype == dns.TypeCNAME || len(cn) == 0 {
			resp.Ns = []dns.RR{dns.Copy(soa)} // NODATA
			return
		}
		resp.Answer = append(resp.Answer, dns.Copy(cn[0]))
		name = canon(cn[0].(*dns.CNAME).Target)
		apex, soa = z.apex(name)
		if soa == nil {
			return // target outside our data: the chain is all we know
		}
	}
	// CNAME loop.
	resp.Answer = nil
	resp.Rcode = dns.RcodeServerFailure
}
