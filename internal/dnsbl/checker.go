package dnsbl

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tempfail/tempfail/internal/resolver"
)

// Lookuper is the part of *resolver.Resolver the checker uses; lookups go
// through its cache, so a client seen again within the TTL costs no query.
type Lookuper interface {
	LookupA(ctx context.Context, name string) (resolver.IPResult, error)
	LookupTXT(ctx context.Context, name string) (resolver.TXTResult, error)
}

// Config configures a Checker.
type Config struct {
	// Sites are the entries, in the order they were written; hits are
	// reported in that order.
	Sites []Site
	// ReplyNames maps a site domain to the name shown in Result (and so in
	// reject texts and logs) instead of the domain itself: the
	// postscreen_dnsbl_reply_map of Postfix, for domains that contain an
	// access key. Without an entry, "KEY.<list>.dq.spamhaus.net" is shown
	// as "<list>.dq.spamhaus.net" and "KEY.<list>.mail.abusix.zone" as
	// "<list>.mail.abusix.zone", so a key is never sent to a client.
	ReplyNames map[string]string
}

// Checker scores client IP addresses against DNSBLs and DNSWLs. It is safe
// for concurrent use.
type Checker struct {
	r       Lookuper
	zones   []*zone // distinct domains, in order of first appearance
	entries []entry // in configuration order
	scores  *scoreCache
	now     func() time.Time // time.Now; tests move it
}

type zone struct {
	domain string // the real zone, possibly with a key
	name   string // what to show
	// warned has one bit per ProblemKind already reported with First.
	warned atomic.Uint32
}

type entry struct {
	site   Site
	filter string // site.Filter.String(), computed once
	zone   int    // index into Checker.zones
}

// New returns a Checker querying the sites through r. With no sites it
// scores every address 0 without a query.
func New(r Lookuper, cfg Config) (*Checker, error) {
	if r == nil {
		return nil, errors.New("dnsbl: nil resolver")
	}
	c := &Checker{r: r, now: time.Now}
	index := map[string]int{}
	for _, s := range cfg.Sites {
		// Sites normally come from ParseSite; check hand-built ones too,
		// since the domain becomes part of a query name.
		d, _, msg := checkDomain(s.Domain)
		if msg != "" {
			return nil, fmt.Errorf("dnsbl: site %q: %s", s.String(), msg)
		}
		if s.Weight > MaxWeight || s.Weight < -MaxWeight {
			return nil, fmt.Errorf("dnsbl: site %q: weight out of range -%d..%d", s.String(), MaxWeight, MaxWeight)
		}
		s.Domain = d
		i, ok := index[s.Domain]
		if !ok {
			i = len(c.zones)
			index[s.Domain] = i
			c.zones = append(c.zones, &zone{domain: s.Domain, name: defaultReplyName(s.Domain)})
		}
		e := entry{site: s, zone: i}
		if s.Filter != nil {
			e.filter = s.Filter.String()
		}
		c.entries = append(c.entries, e)
	}
	for d, name := range cfg.ReplyNames {
		key := strings.ToLower(strings.TrimSuffix(d, "."))
		i, ok := index[key]
		if !ok {
			return nil, fmt.Errorf("dnsbl: reply name for %q, which is not a configured site", d)
		}
		if err := checkReplyName(name); err != nil {
			return nil, fmt.Errorf("dnsbl: reply name %q for %q: %v", name, d, err)
		}
		c.zones[i].name = name
	}
	if len(c.zones) > 0 {
		c.scores = newScoreCache()
	}
	return c, nil
}

// defaultReplyName hides the access key of the keyed services we know.
func defaultReplyName(domain string) string {
	for _, suffix := range []string{".dq.spamhaus.net", ".mail.abusix.zone"} {
		rest, ok := strings.CutSuffix(domain, suffix)
		if !ok {
			continue
		}
		// KEY.zen.dq.spamhaus.net: rest is "KEY.zen"; show "zen" + suffix.
		if i := strings.IndexByte(rest, '.'); i >= 0 {
			return rest[i+1:] + suffix
		}
	}
	return domain
}

// checkReplyName accepts what can go into an SMTP reply unquoted.
func checkReplyName(s string) error {
	if s == "" {
		return errors.New("empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return fmt.Errorf("character %q is not printable ASCII without spaces", s[i])
		}
	}
	return nil
}

// Result is the outcome of Score. Its zero value means "no list has
// anything to say": score 0, no hits, nothing failed.
type Result struct {
	// Score is the sum of the weights of the matching entries. Lists that
	// failed or answered with an error code contribute 0.
	Score int
	// Hits are the matching entries, in configuration order.
	Hits []Hit
	// TempFail lists the domains that gave no usable answer in time
	// (timeout, SERVFAIL, the context's deadline...): their entries
	// contributed 0, so Score may be lower (or, for a DNSWL, higher) than
	// with every answer in.
	TempFail []Failure
	// Problems lists answers that were not used because they mean the list
	// cannot be trusted from here (error codes, answers outside
	// 127.0.0.0/8): a configuration issue to log, not a fact about the
	// client.
	Problems []Problem
}

// Hit is one entry that matched.
type Hit struct {
	// List is the name to show for the domain (see Config.ReplyNames).
	List string
	// Filter is the entry's filter in canonical form, "" for none.
	Filter string
	// Weight is the entry's weight; negative for an allowlist (DNSWL).
	Weight int
	// Addrs are the answers that matched the filter (every valid answer
	// when there is no filter), e.g. 127.0.0.2.
	Addrs []netip.Addr

	// For Reason. The zone is behind a pointer so that printing a Hit
	// with %+v cannot show an access key in the real domain.
	zone   *zone
	prefix string
}

// String renders the hit for logs as list[=filter]*weight[answers].
func (h Hit) String() string {
	var b strings.Builder
	b.WriteString(h.List)
	if h.Filter != "" {
		b.WriteByte('=')
		b.WriteString(h.Filter)
	}
	fmt.Fprintf(&b, "*%d%v", h.Weight, h.Addrs)
	return b.String()
}

// Allow reports whether the hit is from an allowlist entry (negative
// weight), such as list.dnswl.org.
func (h Hit) Allow() bool { return h.Weight < 0 }

// Failure is a list that could not be asked.
type Failure struct {
	List   string
	Reason resolver.Reason
}

// ProblemKind says why answers of a list were not used.
type ProblemKind uint8

const (
	// ErrorCode: the list answered one of its error codes instead of
	// data, most often because it refuses queries from our resolver
	// (Spamhaus 127.255.255.254: public/open resolver). The list protects
	// nothing until the receiver's DNS setup changes.
	ErrorCode ProblemKind = iota + 1
	// OutsideLoopback: an answer outside 127.0.0.0/8, which no list uses
	// for data (RFC 5782 section 2.1). Typically the list's domain expired
	// and now resolves everything to a web server: counting it would list
	// the whole Internet.
	OutsideLoopback
)

func (k ProblemKind) String() string {
	switch k {
	case ErrorCode:
		return "error code"
	case OutsideLoopback:
		return "answer outside 127.0.0.0/8"
	}
	return "invalid"
}

// Problem is a list whose answer was not used.
type Problem struct {
	List  string
	Kind  ProblemKind
	Addrs []netip.Addr
	// Detail explains the error code, e.g. "query via a public/open
	// resolver (Spamhaus)".
	Detail string
	// First is set the first time this Checker reports this kind of
	// problem for this list, so that a check can log a warning once
	// instead of once per connection.
	First bool
}

func (p Problem) String() string {
	s := fmt.Sprintf("%s: %s %v", p.List, p.Kind, p.Addrs)
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// Listed reports whether a blocklist entry (positive weight) matched.
func (r Result) Listed() bool {
	_, ok := r.BlockedBy()
	return ok
}

// Allowlisted reports whether an allowlist entry (negative weight) matched.
func (r Result) Allowlisted() bool {
	for _, h := range r.Hits {
		if h.Allow() {
			return true
		}
	}
	return false
}

// BlockedBy returns the hit to name in a reject text: the one with the
// highest positive weight, the first written on a tie. postscreen(8)
// likewise names the DNSBL with the largest contribution.
func (r Result) BlockedBy() (Hit, bool) {
	best := -1
	for i, h := range r.Hits {
		if h.Weight > 0 && (best < 0 || h.Weight > r.Hits[best].Weight) {
			best = i
		}
	}
	if best < 0 {
		return Hit{}, false
	}
	return r.Hits[best], true
}

// Score queries every distinct domain in parallel for ip and adds up the
// weights of the matching entries. It never fails: a list that does not
// answer within the context's deadline (or the resolver's timeouts)
// contributes 0 and is reported in TempFail. An invalid ip scores 0.
//
// IPv4 addresses are queried with their octets reversed, IPv6 addresses
// with their 32 nibbles reversed (RFC 5782 sections 2.1 and 2.4);
// IPv4-mapped IPv6 addresses as IPv4.
//
// A clean Result (no list failed or misbehaved) built from cached answers
// is remembered for the client until the first of those answers expires,
// and returned as is: callers must not modify it.
func (c *Checker) Score(ctx context.Context, ip netip.Addr) Result {
	if !ip.IsValid() || len(c.zones) == 0 {
		return Result{}
	}
	ip = ip.Unmap()
	now := c.now()
	if res, ok := c.scores.get(ip, now); ok {
		return res
	}
	prefix := reversed(ip)
	answers := c.lookupAll(ctx, prefix)

	var res Result
	valid := make([][]netip.Addr, len(c.zones))
	for i, z := range c.zones {
		a := answers[i]
		switch a.Status {
		case resolver.NotFound:
			continue
		case resolver.TempFail:
			res.TempFail = append(res.TempFail, Failure{List: z.name, Reason: a.Reason})
			continue
		}
		if usable(z.domain, a.Addrs) {
			valid[i] = a.Addrs // the resolver's copy is ours to keep
			continue
		}
		var errs, outside []netip.Addr
		var detail string
		for _, addr := range a.Addrs {
			addr = addr.Unmap()
			if !loopback.Contains(addr) {
				outside = append(outside, addr)
				continue
			}
			if d, bad := errorCode(z.domain, addr); bad {
				errs = append(errs, addr)
				if detail == "" {
					detail = d
				}
				continue
			}
			valid[i] = append(valid[i], addr)
		}
		if errs != nil {
			res.Problems = append(res.Problems, z.problem(ErrorCode, errs, detail))
		}
		if outside != nil {
			res.Problems = append(res.Problems, z.problem(OutsideLoopback, outside, ""))
		}
	}
	for _, e := range c.entries {
		addrs := valid[e.zone]
		if len(addrs) == 0 {
			continue
		}
		if e.site.Filter != nil {
			var matched []netip.Addr
			for _, a := range addrs {
				if e.site.Filter.Match(a) {
					matched = append(matched, a)
				}
			}
			if matched == nil {
				continue
			}
			addrs = matched
		} else {
			addrs = append([]netip.Addr(nil), addrs...) // hits do not share
		}
		z := c.zones[e.zone]
		res.Hits = append(res.Hits, Hit{List: z.name, Filter: e.filter, Weight: e.site.Weight, Addrs: addrs, zone: z, prefix: prefix})
		res.Score = weightSum(res.Score, e.site.Weight)
	}
	if ttl, ok := remember(answers); ok && res.TempFail == nil && res.Problems == nil {
		c.scores.set(ip, res, now.Add(ttl))
	}
	return res
}

// remember reports whether a Result built from answers may be reused, and
// for how long: when every answer came from the resolver's cache (proof
// that it keeps them: it may be disabled) and the first of them to expire
// still has a second to live.
func remember(answers []resolver.IPResult) (time.Duration, bool) {
	ttl := time.Duration(-1)
	for _, a := range answers {
		if !a.Cached {
			return 0, false
		}
		if ttl < 0 || a.TTL < ttl {
			ttl = a.TTL
		}
	}
	return ttl, ttl >= time.Second
}

// lookupAll asks every zone for prefix, in parallel, and returns the
// answers by zone. On a cold cache each answer takes a network round trip,
// and one slow list must not add its delay to the others'. A client seen
// moments before does not get here: its Result comes from c.scores.
func (c *Checker) lookupAll(ctx context.Context, prefix string) []resolver.IPResult {
	answers := make([]resolver.IPResult, len(c.zones))
	// All but the last in their own goroutine, the last on ours.
	var wg sync.WaitGroup
	for i := range len(c.zones) - 1 {
		wg.Go(func() { c.lookup(ctx, prefix, i, answers) })
	}
	c.lookup(ctx, prefix, len(c.zones)-1, answers)
	wg.Wait()
	return answers
}

// lookup asks zone i for prefix into answers[i].
func (c *Checker) lookup(ctx context.Context, prefix string, i int, answers []resolver.IPResult) {
	// An error means an invalid name, which ParseSite rules out; the zero
	// IPResult is TempFail, so it fails safe anyway.
	answers[i], _ = c.r.LookupA(ctx, prefix+c.zones[i].domain)
}

func (z *zone) problem(k ProblemKind, addrs []netip.Addr, detail string) Problem {
	bit := uint32(1) << k
	first := z.warned.Or(bit)&bit == 0
	return Problem{List: z.name, Kind: k, Addrs: addrs, Detail: detail, First: first}
}

// usable reports whether every answer is data: IPv4, in 127.0.0.0/8, not
// an error code (the common case, checked without allocating).
func usable(zone string, addrs []netip.Addr) bool {
	for _, a := range addrs {
		if !a.Is4() || !loopback.Contains(a) {
			return false
		}
		if _, bad := errorCode(zone, a); bad {
			return false
		}
	}
	return true
}

var (
	loopback   = netip.MustParsePrefix("127.0.0.0/8")
	errorRange = netip.MustParsePrefix("127.255.255.0/24")
	dnswlLimit = netip.MustParseAddr("127.0.0.255")
)

// errorCode reports whether addr, an answer of zone, is an error code
// rather than data, and what it means.
//
// Spamhaus reserves 127.255.255.0/24 for errors about the query itself
// ("must not be interpreted as advisories of Spamhaus reputation",
// Spamhaus, "DNSBL return codes: technical update", 2019); other lists
// do not use that range for data, so it is an error code from any list.
// list.dnswl.org answers 127.0.0.255 to resolvers over its query limit;
// an unfiltered or wide DNSWL entry would otherwise allowlist everyone.
func errorCode(zone string, addr netip.Addr) (string, bool) {
	if errorRange.Contains(addr) {
		switch addr.As4()[3] {
		case 252:
			return "typing error in the DNSBL name (Spamhaus)", true
		case 254:
			return "query via a public/open resolver or one without attributable reverse DNS (Spamhaus): use your own recursive resolver or DQS", true
		case 255:
			return "excessive number of queries (Spamhaus): use DQS", true
		}
		return "error code in 127.255.255.0/24 (Spamhaus convention)", true
	}
	if addr == dnswlLimit && (zone == "dnswl.org" || strings.HasSuffix(zone, ".dnswl.org")) {
		return "query limit exceeded or resolver blocked (dnswl.org)", true
	}
	return "", false
}

// reversed returns the query prefix for ip, ending with a dot:
// "99.2.0.192." for 192.0.2.99 and 32 nibbles for IPv6 (RFC 5782
// sections 2.1 and 2.4).
func reversed(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is4() {
		a := ip.As4()
		var b []byte
		for i := 3; i >= 0; i-- {
			b = strconv.AppendUint(b, uint64(a[i]), 10)
			b = append(b, '.')
		}
		return string(b)
	}
	const hex = "0123456789abcdef"
	a := ip.As16()
	b := make([]byte, 0, 64)
	for i := 15; i >= 0; i-- {
		b = append(b, hex[a[i]&0xf], '.', hex[a[i]>>4], '.')
	}
	return string(b)
}
