package facts

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"blitiri.com.ar/go/spf"

	"github.com/tempfail/tempfail/internal/dnsbl"
	"github.com/tempfail/tempfail/internal/policy"
	"github.com/tempfail/tempfail/internal/resolver"
)

// Source computes facts. It is long-lived and safe for concurrent use.
type Source struct {
	// R is the resolver; nil means no DNS: every DNS fact is TempFail
	// (reason "no resolver"), so every DNS check passes.
	R *resolver.Resolver
	// DNSBL scores clients against block and allow lists
	// (postscreen_dnsbl_sites syntax); nil: no lists configured.
	DNSBL *dnsbl.Checker
	// OnDNSBL, when set, is called with every DNSBL score computed (at
	// most once per request, by whichever check asks first): the dnsbl
	// check's per-list metrics and the warning logged once per list
	// problem (dnsbl.Problem.First) hang here, so they see every lookup.
	OnDNSBL func(ctx context.Context, req *policy.Request, res dnsbl.Result)
	// Risk weighs the signals of Set.Risk; the zero value means DefaultWeights.
	Risk Weights

	spfOnce  sync.Once
	spfCache *spfCache // SPF results by exact (client, HELO, sender): spfcache.go
}

func (src *Source) spfResults() *spfCache {
	src.spfOnce.Do(func() { src.spfCache = &spfCache{} })
	return src.spfCache
}

// Txn is the per-transaction state facts keep the SPF result in
// (engine.Txn satisfies it).
type Txn interface {
	Get(key string) any
	Update(key string, f func(old any) any)
}

// once is a value computed at most once.
type once[T any] struct {
	o    sync.Once
	v    T
	done atomic.Bool
}

func (l *once[T]) get(f func() T) T {
	l.o.Do(func() { l.v = f(); l.done.Store(true) })
	return l.v
}

// Set is the facts of one request. It lives inside engine.Facts; Init
// binds it to the request. The zero value (not bound) answers TempFail for
// every DNS fact.
type Set struct {
	src *Source
	req *policy.Request
	txn Txn

	rdns   once[ReverseDNS]
	sender once[SenderDomain]
	spf    once[SPF]
	dnsbl  once[DNSBL]
	risk   once[Risk]
	extra  []RiskPart

	// The budgeted context of the last ctx asked for (see budget): the
	// checks of one request pass the same ctx, so one is made per request.
	budMu  sync.Mutex
	budOf  context.Context
	budCtx context.Context
}

// Init binds the set to a request. txn may be nil.
func (s *Set) Init(src *Source, req *policy.Request, txn Txn) {
	s.src, s.req, s.txn = src, req, txn
}

func (s *Set) resolver() *resolver.Resolver {
	if s.src == nil {
		return nil
	}
	return s.src.R
}

// Status is the outcome of a fact.
type Status uint8

const (
	// TempFail: DNS could not tell now (timeout, SERVFAIL, no resolver,
	// the request's time budget spent). Never a reason to defer by default.
	TempFail Status = iota
	// OK: the good outcome (reverse DNS forward-confirmed, sender domain
	// exists).
	OK
	// Missing: the bad outcome (no PTR; sender domain not found).
	Missing
	// Mismatch: reverse DNS exists but does not resolve back to the client.
	Mismatch
	// NullMX: the sender domain says it accepts no mail (RFC 7505).
	NullMX
	// Skipped: the fact does not apply (null sender, address literal,
	// no client address).
	Skipped
)

func (s Status) String() string {
	switch s {
	case TempFail:
		return "tempfail"
	case OK:
		return "ok"
	case Missing:
		return "missing"
	case Mismatch:
		return "mismatch"
	case NullMX:
		return "null_mx"
	case Skipped:
		return "skipped"
	}
	return "invalid"
}

// ReverseDNS is the client's reverse DNS.
type ReverseDNS struct {
	// Status: OK (forward-confirmed, "FCrDNS"), Missing (no PTR),
	// Mismatch (PTR names that do not resolve back), TempFail, Skipped.
	Status Status
	// Name is the verified name when OK, the first PTR name when Mismatch.
	Name string
	// FromMTA is set when Postfix's client_name was used as is.
	FromMTA bool
	// Why says what failed, for people ("servfail", "no resolver").
	Why string
}

// Confirmed reports forward-confirmed reverse DNS.
func (r ReverseDNS) Confirmed() bool { return r.Status == OK }

// maxPTR bounds the PTR names forward-checked (Postfix checks one; some
// hosts publish a few).
const maxPTR = 4

// ReverseDNS returns the client's reverse DNS, computed once.
func (s *Set) ReverseDNS(ctx context.Context) ReverseDNS {
	return s.rdns.get(func() ReverseDNS { return s.reverseDNS(ctx) })
}

func (s *Set) reverseDNS(ctx context.Context) ReverseDNS {
	if s.req == nil || !s.req.Client.IsValid() {
		return ReverseDNS{Status: Skipped, Why: "no client address"}
	}
	if n := s.req.ClientName; n != "" && !strings.EqualFold(n, "unknown") {
		// Postfix verified it: PTR and forward lookup matched.
		return ReverseDNS{Status: OK, Name: strings.ToLower(strings.TrimSuffix(n, ".")), FromMTA: true}
	}
	// Postfix's "unknown" does not tell "no PTR" from "DNS timed out":
	// look for ourselves (cached, and only for clients without verified
	// names), so a transient failure is never taken for missing DNS.
	r := s.resolver()
	if r == nil {
		return ReverseDNS{Status: TempFail, Why: "no resolver"}
	}
	ctx = s.budget(ctx)
	ip := s.req.Client.Unmap()
	ptr, err := r.LookupPTR(ctx, ip)
	switch {
	case err != nil:
		return ReverseDNS{Status: Skipped, Why: err.Error()}
	case ptr.Status == resolver.TempFail:
		return ReverseDNS{Status: TempFail, Why: "PTR " + ptr.Reason.String()}
	case ptr.Status == resolver.NotFound:
		return ReverseDNS{Status: Missing}
	}
	tempfail := ""
	for i, name := range ptr.Names {
		if i == maxPTR {
			break
		}
		var res resolver.IPResult
		if ip.Is4() {
			res, err = r.LookupA(ctx, name)
		} else {
			res, err = r.LookupAAAA(ctx, name)
		}
		if err != nil {
			continue // a PTR name that is not a valid host name
		}
		if res.Status == resolver.TempFail {
			tempfail = name + " " + res.Reason.String()
			continue
		}
		for _, a := range res.Addrs {
			if a.Unmap() == ip {
				return ReverseDNS{Status: OK, Name: name}
			}
		}
	}
	if tempfail != "" {
		return ReverseDNS{Status: TempFail, Name: ptr.Names[0], Why: tempfail}
	}
	return ReverseDNS{Status: Mismatch, Name: ptr.Names[0]}
}

// SenderDomain is what DNS says about the envelope sender's domain.
type SenderDomain struct {
	// Status: OK (MX, or A/AAAA without MX), NullMX, Missing (NXDOMAIN, or
	// neither MX nor A/AAAA), TempFail, Skipped (null sender, no domain,
	// address literal).
	Status Status
	Domain string
	// Via says what was found or failed: "mx", "a", "nxdomain", "servfail"...
	Via string
}

// Domain returns the lower-cased domain of an address ("" when none).
func Domain(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSuffix(addr[at+1:], "."))
}

// SenderDomain returns the sender domain fact, computed once.
func (s *Set) SenderDomain(ctx context.Context) SenderDomain {
	return s.sender.get(func() SenderDomain { return s.senderDomain(ctx) })
}

func (s *Set) senderDomain(ctx context.Context) SenderDomain {
	if s.req == nil || s.req.Sender == "" {
		return SenderDomain{Status: Skipped, Via: "null sender"}
	}
	d := Domain(s.req.Sender)
	if d == "" || strings.HasPrefix(d, "[") {
		return SenderDomain{Status: Skipped, Domain: d, Via: "no domain"}
	}
	r := s.resolver()
	if r == nil {
		return SenderDomain{Status: TempFail, Domain: d, Via: "no resolver"}
	}
	ctx = s.budget(ctx)
	mx, err := r.LookupMX(ctx, d)
	switch {
	case err != nil:
		// Not a valid domain name at all: nothing DNS can find.
		return SenderDomain{Status: Missing, Domain: d, Via: "invalid name"}
	case mx.Status == resolver.Found && mx.Null:
		return SenderDomain{Status: NullMX, Domain: d, Via: "null mx"}
	case mx.Status == resolver.Found:
		return SenderDomain{Status: OK, Domain: d, Via: "mx"}
	case mx.Status == resolver.TempFail:
		return SenderDomain{Status: TempFail, Domain: d, Via: "MX " + mx.Reason.String()}
	case mx.NXDomain:
		return SenderDomain{Status: Missing, Domain: d, Via: "nxdomain"}
	}
	// No MX: the domain's own address is its implicit MX (RFC 5321 5.1).
	ip, _ := r.LookupIP(ctx, d)
	switch ip.Status {
	case resolver.Found:
		return SenderDomain{Status: OK, Domain: d, Via: "a"}
	case resolver.TempFail:
		return SenderDomain{Status: TempFail, Domain: d, Via: "A/AAAA " + ip.Reason.String()}
	}
	return SenderDomain{Status: Missing, Domain: d, Via: "no mx, a or aaaa"}
}

// SPF is the SPF result of the transaction.
type SPF struct {
	// Result is pass, fail, softfail, neutral, none, temperror or
	// permerror; "" when not evaluated (no client address).
	Result spf.Result
	// Identity is "mailfrom" or "helo" (RFC 7208 section 2.3/2.4).
	Identity string
	// Domain is the domain checked; Sender the identity as an address
	// (postmaster@helo for the HELO identity).
	Domain, Sender string
	// Why is the library's explanation (matched mechanism or error).
	Why string
	// Cached is set when the result came from the transaction state.
	Cached bool
}

// Pass reports an SPF pass.
func (r SPF) Pass() bool { return r.Result == spf.Pass }

type spfEntry struct {
	client netip.Addr
	helo   string
	sender string
	res    SPF
}

const spfTxnKey = "facts.spf"

// SPF returns the SPF result, computed once per transaction.
func (s *Set) SPF(ctx context.Context) SPF {
	return s.spf.get(func() SPF { return s.checkSPF(ctx) })
}

func (s *Set) checkSPF(ctx context.Context) SPF {
	if s.req == nil || !s.req.Client.IsValid() {
		return SPF{Why: "no client address"}
	}
	ip, helo, sender := s.req.Client.Unmap(), s.req.HeloName, s.req.Sender
	if helo != "" && (helo[len(helo)-1] == '.' || hasUpper(helo)) {
		helo = strings.ToLower(strings.TrimSuffix(helo, "."))
	}
	key := spfKey{ip: ip, helo: helo, sender: sender}
	var cache *spfCache
	if s.src != nil {
		cache = s.src.spfResults()
		if r, ok := cache.get(key, time.Now()); ok {
			r.Cached = true
			return r
		}
	}
	if s.txn != nil {
		if e, ok := s.txn.Get(spfTxnKey).(*spfEntry); ok && e.client == ip && e.helo == helo && e.sender == sender {
			r := e.res
			r.Cached = true
			return r
		}
	}
	res := SPF{Identity: "mailfrom", Sender: sender, Domain: Domain(sender)}
	if sender == "" {
		res.Identity, res.Domain, res.Sender = "helo", helo, "postmaster@"+helo
	}
	switch {
	case res.Domain == "" || strings.HasPrefix(res.Domain, "[") || !strings.Contains(res.Domain, "."):
		// RFC 7208 section 4.3: no usable domain is "none". An address
		// literal HELO has no SPF record to look up.
		res.Result, res.Why = spf.None, "no domain to check"
		return res
	case s.resolver() == nil:
		res.Result, res.Why = spf.TempError, "no resolver"
		return res
	}
	bctx := s.budget(ctx)
	// The library takes the domain after the first "@" (or the HELO).
	libDomain := helo
	if at := strings.IndexByte(res.Sender, '@'); at >= 0 && at < len(res.Sender)-1 {
		libDomain = res.Sender[at+1:]
	}
	if r, why, ttl, ok := fastSPF(bctx, s.resolver(), ip, libDomain); ok {
		res.Result, res.Why = r, why
		if ttl = min(ttl, spfMaxAge); cache != nil && ttl >= spfMinCached {
			cache.put(key, res, time.Now().Add(ttl))
		} else if s.txn != nil {
			e := &spfEntry{client: ip, helo: helo, sender: sender, res: res}
			s.txn.Update(spfTxnKey, func(any) any { return e })
		}
		return res
	}
	var trace resolver.SPFTrace
	r, err := spf.CheckHostWithSender(ip.AsSlice(), helo, res.Sender,
		spf.WithContext(bctx), spf.WithResolver(s.resolver().SPFTracing(&trace)))
	res.Result = r
	if err != nil {
		res.Why = err.Error()
	}
	if r == spf.TempError || trace.TempFail {
		return res
	}
	if ttl := min(trace.MinTTL, spfMaxAge); cache != nil && trace.Lookups > 0 && ttl >= spfMinCached {
		cache.put(key, res, time.Now().Add(ttl))
	} else if s.txn != nil {
		// Not cacheable (TTL 0, the resolver's cache off): keep it for the
		// transaction's other requests at least.
		e := &spfEntry{client: ip, helo: helo, sender: sender, res: res}
		s.txn.Update(spfTxnKey, func(any) any { return e })
	}
	return res
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

var _ spf.DNSResolver = resolver.SPFResolver{}

// DNSBL is the client's score on DNS block (positive weights) and allow
// (negative weights) lists.
type DNSBL struct {
	dnsbl.Result
	// Checked is set when lists are configured and the client was scored.
	Checked bool
}

// DNSBL returns the client's score, computed once. Zero without lists.
func (s *Set) DNSBL(ctx context.Context) DNSBL {
	return s.dnsbl.get(func() DNSBL {
		if s.src == nil || s.src.DNSBL == nil || s.req == nil || !s.req.Client.IsValid() {
			return DNSBL{}
		}
		res := s.src.DNSBL.Score(s.budget(ctx), s.req.Client.Unmap())
		if s.src.OnDNSBL != nil {
			s.src.OnDNSBL(ctx, s.req, res)
		}
		return DNSBL{Result: res, Checked: true}
	})
}

// DNSBLReason returns the TXT record a list publishes with a hit (the
// listing reason, usually a URL), sanitized for an SMTP reply; "" when
// there is none or it cannot be had within the request's budget. It costs
// a lookup (cached), so it is asked only for a reply actually sent.
func (s *Set) DNSBLReason(ctx context.Context, hit dnsbl.Hit) string {
	if s.src == nil || s.src.DNSBL == nil {
		return ""
	}
	return s.src.DNSBL.Reason(s.budget(ctx), hit)
}

// Summary renders every fact computed so far, for people (tempfail query).
func (s *Set) Summary() string {
	var b []string
	if r, ok := peek(&s.rdns); ok {
		b = append(b, "rdns="+r.Status.String()+nameOf(r.Name))
	}
	if d, ok := peek(&s.sender); ok {
		b = append(b, "sender_domain="+d.Status.String()+"("+d.Via+")")
	}
	if p, ok := peek(&s.spf); ok && p.Result != "" {
		b = append(b, "spf="+string(p.Result)+"("+p.Identity+" "+p.Domain+")")
	}
	if d, ok := peek(&s.dnsbl); ok && d.Checked {
		b = append(b, "dnsbl="+strconv.Itoa(d.Score))
	}
	return strings.Join(b, " ")
}

func nameOf(n string) string {
	if n == "" {
		return ""
	}
	return "(" + n + ")"
}

// peek returns a value if it was computed, without computing it.
func peek[T any](l *once[T]) (T, bool) {
	if !l.done.Load() {
		var zero T
		return zero, false
	}
	return l.v, true
}

// Note adds the risk and every DNS fact to a request's notes for people
// (tempfail query: x_tempfail_risk=, x_tempfail_dns= on the wire). It computes the facts
// no check asked for, so it is only called for requests that asked for
// notes.
func (s *Set) Note(ctx context.Context, add func(name, value string)) {
	if s.req == nil || s.src == nil {
		return
	}
	s.SenderDomain(ctx)
	add("risk", s.Risk(ctx).String())
	if sum := s.Summary(); sum != "" {
		add("dns", sum)
	}
}
