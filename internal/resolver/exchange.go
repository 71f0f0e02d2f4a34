package resolver

import (
	"cmp"
	"context"
	"errors"
	"math"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// answer is an immutable, cacheable outcome of one (name, type) question.
// Exactly one of the record slices is used, according to the type.
type answer struct {
	k       key // set when cached
	status  Status
	nx      bool
	rcode   int
	reason  Reason
	expires time.Time // zero: not cacheable

	addrs []netip.Addr // A, AAAA
	mx    []MX
	txt   []string
	names []string // PTR
}

// canceled is the answer for a caller whose context ended first. It is
// never cached.
var canceled = &answer{status: TempFail, rcode: -1, reason: ReasonCanceled}

func (a *answer) result(now time.Time, cached bool) Result {
	res := Result{Status: a.status, NXDomain: a.nx, Rcode: a.rcode, Reason: a.reason, Cached: cached}
	if !a.expires.IsZero() && now.Before(a.expires) {
		res.TTL = a.expires.Sub(now)
	}
	return res
}

// normalize checks name and returns it lower-cased, without the trailing
// dot: the form used in cache keys. It does not allocate when name is
// already lower-case.
//
// Like the Go standard library (net.isDomainName), it accepts letters,
// digits, '-' and '_' in labels of 1 to 63 bytes, 253 bytes in all without
// the trailing dot; anything else would be a caller bug or an attempt to
// smuggle odd bytes into a query.
func normalize(name string) (string, error) {
	n := strings.TrimSuffix(name, ".")
	if n == "" || len(n) > 253 {
		return "", ErrInvalidName
	}
	lower := true
	label := 0
	for i := 0; i < len(n); i++ {
		c := n[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_':
			label++
		case c >= 'A' && c <= 'Z':
			lower = false
			label++
		case c == '-':
			if label == 0 || i+1 == len(n) || n[i+1] == '.' {
				return "", ErrInvalidName // no leading or trailing '-'
			}
			label++
		case c == '.':
			if label == 0 {
				return "", ErrInvalidName
			}
			label = 0
		default:
			return "", ErrInvalidName
		}
		if label > 63 {
			return "", ErrInvalidName
		}
	}
	if label == 0 { // "a.." : empty last label
		return "", ErrInvalidName
	}
	if !lower {
		n = strings.ToLower(n)
	}
	return n, nil
}

// reverseName returns the in-addr.arpa or ip6.arpa name of ip.
func reverseName(ip netip.Addr) string {
	ip = ip.Unmap().WithZone("")
	var b strings.Builder
	if ip.Is4() {
		a := ip.As4()
		for i := 3; i >= 0; i-- {
			b.WriteString(strconv.Itoa(int(a[i])))
			b.WriteByte('.')
		}
		b.WriteString("in-addr.arpa.")
		return b.String()
	}
	const hexd = "0123456789abcdef"
	a := ip.As16()
	b.Grow(73)
	for i := 15; i >= 0; i-- {
		b.WriteByte(hexd[a[i]&0xf])
		b.WriteByte('.')
		b.WriteByte(hexd[a[i]>>4])
		b.WriteByte('.')
	}
	b.WriteString("ip6.arpa.")
	return b.String()
}

// resolve asks the servers in turn, starting with the one that answered
// last, until one gives a definite answer or the attempts run out.
func (r *Resolver) resolve(k key) *answer {
	ok, probe := r.brk.allow(r.now())
	if !ok {
		r.stats.fastFails.Add(1)
		return unreachable
	}
	a, replied := r.ask(k)
	r.brk.done(r.now(), replied, probe)
	return a
}

// ask is resolve without the breaker; replied reports whether any server
// sent a reply at all (SERVFAIL included).
func (r *Resolver) ask(k key) (_ *answer, replied bool) {
	n := len(r.servers)
	start := int(r.preferred.Load()) % n
	var last *answer
	for i := range r.attempts {
		idx := (start + i) % n
		a := r.attempt(r.servers[idx], k)
		if a.status != TempFail {
			if idx != start {
				r.preferred.Store(uint32(idx))
			}
			return a, true
		}
		if a.reason != ReasonTimeout && a.reason != ReasonNetwork {
			replied = true
		}
		last = a
	}
	// Every attempt failed: cache the failure briefly (RFC 2308 section 7).
	if r.failTTL > 0 {
		last.expires = r.now().Add(r.failTTL)
	}
	return last, replied
}

// attempt sends one query to server (plus a TCP retry if the UDP reply is
// truncated, and a retry without EDNS if the server does not grok it).
func (r *Resolver) attempt(server string, k key) *answer {
	m := new(dns.Msg)
	m.SetQuestion(k.name+".", k.qtype) // RD set: we ask a recursive resolver
	m.SetEdns0(UDPSize, false)

	resp, err := r.exchange(r.udp, m, server)
	if err == nil && resp.Truncated {
		// RFC 1035 section 4.2.1 / RFC 7766: the full answer is over TCP.
		r.stats.tcp.Add(1)
		resp, err = r.exchange(r.tcp, m, server)
	}
	if err == nil && (resp.Rcode == dns.RcodeFormatError || resp.Rcode == dns.RcodeNotImplemented) && resp.IsEdns0() == nil {
		// RFC 6891 section 7: a responder that does not understand EDNS
		// may answer FORMERR (without OPT); ask again without it.
		m.Extra = nil
		m.Id = dns.Id()
		resp, err = r.exchange(r.udp, m, server)
		if err == nil && resp.Truncated {
			r.stats.tcp.Add(1)
			resp, err = r.exchange(r.tcp, m, server)
		}
	}
	if err != nil {
		return r.failure(err)
	}
	if !matches(resp, m) {
		return &answer{status: TempFail, rcode: -1, reason: ReasonBadResponse}
	}
	return r.parse(resp, k)
}

func (r *Resolver) exchange(c *dns.Client, m *dns.Msg, server string) (*dns.Msg, error) {
	r.stats.queries.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	resp, _, err := c.ExchangeContext(ctx, m, server)
	return resp, err
}

func (r *Resolver) failure(err error) *answer {
	a := &answer{status: TempFail, rcode: -1, reason: ReasonNetwork}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		r.stats.timeouts.Add(1)
		a.reason = ReasonTimeout
	case errors.Is(err, dns.ErrId), isUnpackError(err):
		a.reason = ReasonBadResponse
	}
	return a
}

func isUnpackError(err error) bool {
	var de *dns.Error
	return errors.As(err, &de)
}

// matches reports whether resp is a reply to q (RFC 1035 section 7.3: the
// ID, which the client library checks, and the question must match).
func matches(resp, q *dns.Msg) bool {
	if !resp.Response || resp.Opcode != dns.OpcodeQuery || len(resp.Question) != 1 {
		// A FORMERR may legitimately come without the question.
		return resp.Response && len(resp.Question) == 0 && resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError
	}
	a, b := resp.Question[0], q.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}

// parse turns a reply into an answer (RFC 1035 section 4.1, RFC 2308).
func (r *Resolver) parse(resp *dns.Msg, k key) *answer {
	a := &answer{rcode: resp.Rcode}
	switch resp.Rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
	case dns.RcodeServerFailure:
		a.status, a.reason = TempFail, ReasonServFail
		return a
	case dns.RcodeRefused:
		a.status, a.reason = TempFail, ReasonRefused
		return a
	default:
		a.status, a.reason = TempFail, ReasonRcode
		return a
	}

	// Follow the CNAME chain through the answer section, collecting the
	// records of the asked type owned by its end (RFC 1034 section 4.3.2).
	// A chain that stops short is treated as no data, as the Go standard
	// library does; recursive resolvers send complete chains.
	owner := k.name + "."
	ttl := uint32(math.MaxUint32)
	var rrs []dns.RR
	for hop := 0; ; hop++ {
		if hop > maxCNAMEHops {
			return &answer{status: TempFail, rcode: resp.Rcode, reason: ReasonBadResponse}
		}
		next := ""
		var nextTTL uint32
		for _, rr := range resp.Answer {
			h := rr.Header()
			if h.Class != dns.ClassINET || !strings.EqualFold(h.Name, owner) {
				continue
			}
			if h.Rrtype == k.qtype {
				rrs = append(rrs, rr)
				ttl = min(ttl, h.Ttl)
			} else if cn, ok := rr.(*dns.CNAME); ok && next == "" {
				next, nextTTL = cn.Target, h.Ttl
			}
		}
		if len(rrs) > 0 || next == "" {
			break
		}
		owner = next
		ttl = min(ttl, nextTTL)
	}

	now := r.now()
	if len(rrs) == 0 {
		a.status = NotFound
		a.nx = resp.Rcode == dns.RcodeNameError
		// RFC 2308 section 5: the negative TTL is min(SOA TTL, SOA
		// MINIMUM); without an SOA the answer SHOULD NOT be cached.
		for _, rr := range resp.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				neg := min(ttl, soa.Hdr.Ttl, soa.Minttl)
				d := r.clamp(time.Duration(neg) * time.Second)
				d = min(d, r.negTTL)
				if d > 0 {
					a.expires = now.Add(d)
				}
				break
			}
		}
		return a
	}
	if resp.Rcode != dns.RcodeSuccess {
		// Records with NXDOMAIN make no sense.
		return &answer{status: TempFail, rcode: resp.Rcode, reason: ReasonBadResponse}
	}

	a.status = Found
	switch k.qtype {
	case dns.TypeA:
		for _, rr := range rrs {
			if ip, ok := netip.AddrFromSlice(rr.(*dns.A).A.To4()); ok {
				a.addrs = append(a.addrs, ip)
			}
		}
	case dns.TypeAAAA:
		for _, rr := range rrs {
			if ip, ok := netip.AddrFromSlice(rr.(*dns.AAAA).AAAA.To16()); ok {
				a.addrs = append(a.addrs, ip)
			}
		}
	case dns.TypeMX:
		for _, rr := range rrs {
			mx := rr.(*dns.MX)
			a.mx = append(a.mx, MX{Host: hostName(mx.Mx), Pref: mx.Preference})
		}
		slices.SortStableFunc(a.mx, func(x, y MX) int { return cmp.Compare(x.Pref, y.Pref) })
	case dns.TypeTXT:
		for _, rr := range rrs {
			a.txt = append(a.txt, unescapeTXT(strings.Join(rr.(*dns.TXT).Txt, "")))
		}
	case dns.TypePTR:
		for _, rr := range rrs {
			a.names = append(a.names, hostName(rr.(*dns.PTR).Ptr))
		}
	}
	if d := r.clamp(time.Duration(ttl) * time.Second); d > 0 {
		a.expires = now.Add(d)
	}
	return a
}

func (r *Resolver) clamp(d time.Duration) time.Duration {
	return min(max(d, r.minTTL), r.maxTTL)
}

// hostName returns a domain name from a record lower-cased and without the
// trailing dot ("." for the root).
func hostName(s string) string {
	if s == "." || s == "" {
		return "."
	}
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

// unescapeTXT undoes the presentation-format escaping miekg/dns applies to
// TXT character-strings when unpacking them (\" \\ and \DDD), giving back
// the bytes that were on the wire.
func unescapeTXT(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b = append(b, c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if v <= 255 {
				b = append(b, byte(v))
				i += 3
				continue
			}
		}
		b = append(b, s[i+1])
		i++
	}
	return string(b)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
