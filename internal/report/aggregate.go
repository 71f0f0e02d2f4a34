package report

import (
	"cmp"
	"container/heap"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/tempfail/tempfail/internal/maillog"
	"github.com/tempfail/tempfail/internal/trace"
)

// Options tune an Aggregator.
type Options struct {
	// Stuck is the time in queue past which a message is listed as stuck
	// (default 1h).
	Stuck time.Duration
	// Limit caps every list and table kept (stuck messages, permanent
	// failures after deferrals, rows per table); counts stay exact.
	// Default 50.
	Limit int
	// MaxKeys caps the distinct keys tracked per table (domains, relays,
	// clients) and the pending greylisted triplets, so memory stays bounded
	// on any log. Default 20 000.
	MaxKeys int
}

func (o Options) withDefaults() Options {
	if o.Stuck <= 0 {
		o.Stuck = time.Hour
	}
	if o.Limit <= 0 {
		o.Limit = 50
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 20_000
	}
	return o
}

// Aggregator builds a Report from messages (trace.Correlator's Emit) and
// the few events that are not part of a message (SASL failures). Its memory
// is bounded by Options, not by the log size. Not safe for concurrent use.
type Aggregator struct {
	opt Options

	first, last time.Time
	totals      Totals

	byCause, byDomain, byRelay *table
	rateDomain, rateClient     *table
	relayDenied, saslFailed    *table

	stuck     topN[StuckMessage]
	stuckN    int64
	permanent []PermanentFailure
	permN     int64

	// greylisting, outgoing
	glOut       GreylistOut
	glOutDelay  dist
	glOutDomain *table
	// greylisting, incoming
	glPending map[triplet]glEntry
	glIn      GreylistIn
	glInDelay dist

	timeline  timeline
	delayHist [len(delayBins)][2]int64
}

type triplet struct{ net, from, rcpt string }

type glEntry struct {
	first time.Time
	n     int
}

// New returns an Aggregator.
func New(opt Options) *Aggregator {
	opt = opt.withDefaults()
	a := &Aggregator{opt: opt, glPending: map[triplet]glEntry{}}
	for _, t := range []**table{&a.byCause, &a.byDomain, &a.byRelay, &a.rateDomain, &a.rateClient, &a.relayDenied, &a.saslFailed, &a.glOutDomain} {
		*t = newTable(opt.MaxKeys)
	}
	a.stuck.limit = opt.Limit
	a.glOutDelay.init(1)
	a.glInDelay.init(2)
	return a
}

// AddEvent looks at one log event: the time span of the log and SASL
// authentication failures. Feed every event (before or after the
// Correlator sees it).
func (a *Aggregator) AddEvent(ev *maillog.Event) {
	if !ev.Time.IsZero() && ev.Kind > maillog.KindIgnored {
		if a.first.IsZero() || ev.Time.Before(a.first) {
			a.first = ev.Time
		}
		if ev.Time.After(a.last) {
			a.last = ev.Time
		}
	}
	if ev.Kind == maillog.KindAuthFailed {
		a.totals.SASLFailures++
		c := ev.Client
		if c == "" {
			c = ev.ClientIP
		}
		a.saslFailed.add(c, ev.Time, 1, 0, ev.SASLMethod)
	}
}

// AddMessage accounts one finished message.
func (a *Aggregator) AddMessage(m *trace.Message) {
	t := &a.totals
	if m.QueueID == "" {
		a.addReject(m)
		return
	}
	if m.BounceOf != "" || isNotification(m) {
		t.Notifications++
	} else {
		t.Received++
	}
	msgDeferred := false
	var causes, domains, relays, rateDoms []string
	for _, r := range m.Recipients {
		switch r.Outcome {
		case trace.OutcomeDelivered, trace.OutcomeDiscarded:
			t.Delivered++
		case trace.OutcomeBounced:
			t.Bounced++
		case trace.OutcomeExpired:
			t.Expired++
		case trace.OutcomeRejected:
			t.Rejected++
		case trace.OutcomeHeld:
			t.Held++
			t.StillQueued++
		case trace.OutcomeDeferred:
			t.StillQueued++
		case trace.OutcomeDeleted:
			t.Deleted++
		}
		dom := domainOf(r.Address)
		held := a.recipientDelay(m, r)
		deferrals := 0
		var firstDefer *trace.Attempt
		var firstGrey *trace.Attempt
		for i := range r.Attempts {
			at := &r.Attempts[i]
			if at.Status != "deferred" {
				if at.Cause == "rate_limit" && at.Status == "bounced" {
					rateDoms = appendOnce(rateDoms, dom)
					a.rateDomain.add(dom, at.Time, 1, held, m.QueueID)
				}
				continue
			}
			deferrals++
			t.DeferralAttempts++
			if firstDefer == nil {
				firstDefer = at
			}
			cause := at.Cause
			if cause == "" {
				cause = "other"
			}
			relay := relayName(at)
			a.byCause.add(cause, at.Time, 1, held, m.QueueID)
			a.byDomain.add(dom, at.Time, 1, held, m.QueueID)
			a.byRelay.add(relay, at.Time, 1, held, m.QueueID)
			causes = appendOnce(causes, cause)
			domains = appendOnce(domains, dom)
			relays = appendOnce(relays, relay)
			a.timeline.add(at.Time, cause)
			if cause == "rate_limit" {
				rateDoms = appendOnce(rateDoms, dom)
				a.rateDomain.add(dom, at.Time, 1, held, m.QueueID)
			}
			if cause == "greylisting" && firstGrey == nil {
				firstGrey = at
			}
		}
		if deferrals > 0 {
			t.Deferred++
			msgDeferred = true
		}
		// greylisted by the destination: how long until it got through
		if firstGrey != nil {
			g := &a.glOut
			g.Recipients++
			switch r.Outcome {
			case trace.OutcomeDelivered:
				g.GotThrough++
				last := r.Attempts[len(r.Attempts)-1]
				d := last.Time.Sub(firstGrey.Time).Seconds()
				a.glOutDelay.add(d)
				a.glOutDomain.add(dom, firstGrey.Time, 1, d, m.QueueID)
			case trace.OutcomeDeferred, trace.OutcomeHeld:
				g.StillWaiting++
				a.glOutDomain.add(dom, firstGrey.Time, 1, 0, m.QueueID)
			default:
				g.Failed++
				a.glOutDomain.add(dom, firstGrey.Time, 1, 0, m.QueueID)
			}
		}
		// delivery delay distribution
		if r.Outcome == trace.OutcomeDelivered && len(r.Attempts) > 0 {
			series := 0
			if deferrals > 0 {
				series = 1
			}
			a.delayHist[delayBin(held)][series]++
		}
		// deferrals that ended in a permanent failure
		if firstDefer != nil && (r.Outcome == trace.OutcomeBounced || r.Outcome == trace.OutcomeExpired) {
			a.permN++
			if len(a.permanent) < a.opt.Limit {
				last := r.Attempts[len(r.Attempts)-1]
				a.permanent = append(a.permanent, PermanentFailure{
					QueueID: m.QueueID, MessageID: m.MessageID, From: m.From, Recipient: r.Address,
					FirstDeferral: firstDefer.Time, FirstCause: firstDefer.Cause, FirstReply: firstDefer.Reply,
					Deferrals: deferrals, FailedAt: last.Time, Outcome: string(r.Outcome), DSN: last.DSN,
					Cause: last.Cause, Reply: last.Reply, Why: last.Why, InQueue: seconds(last.Time.Sub(m.FirstSeen)),
				})
			}
		}
	}
	if msgDeferred {
		t.DeferredMessages++
	}
	for _, k := range causes {
		a.byCause.message(k)
	}
	for _, k := range domains {
		a.byDomain.message(k)
	}
	for _, k := range relays {
		a.byRelay.message(k)
	}
	for _, k := range rateDoms {
		a.rateDomain.message(k)
	}
	// stuck: time in queue past the threshold
	inQueue := a.messageAge(m)
	if inQueue >= a.opt.Stuck.Seconds() {
		a.stuckN++
		a.stuck.push(StuckMessage{QueueID: m.QueueID, MessageID: m.MessageID, From: m.From, Recipients: addrs(m),
			FirstSeen: m.FirstSeen, LastSeen: m.LastSeen, InQueue: inQueue, Outcome: string(m.Outcome), LastReply: lastReply(m)}, inQueue)
	}
	a.incomingPass(m)
}

// isNotification: a Postfix message from the null sender with no client and
// no pickup is one the bounce daemon made; the correlator links most of
// them (BounceOf), this catches notifications whose original is not in the
// log.
func isNotification(m *trace.Message) bool { return m.From == "" && m.Client == "" }

// addReject accounts a message refused before queueing (NOQUEUE).
func (a *Aggregator) addReject(m *trace.Message) {
	t := &a.totals
	if len(m.Recipients) == 0 {
		t.Rejected++
		return
	}
	for _, r := range m.Recipients {
		if r.Outcome == trace.OutcomeRejected {
			t.Rejected++
		}
		for i := range r.Attempts {
			at := &r.Attempts[i]
			if at.Status != "reject" {
				continue
			}
			client := m.Client
			switch {
			case at.Cause == "greylisting" && at.Temporary:
				a.glIn.Rejects++
				k := triplet{clientNet(m.Client), strings.ToLower(m.From), strings.ToLower(r.Address)}
				e, ok := a.glPending[k]
				if !ok {
					if len(a.glPending) >= a.opt.MaxKeys {
						a.expireTriplets(at.Time)
					}
					if len(a.glPending) >= a.opt.MaxKeys {
						a.glIn.Dropped++
						continue
					}
					a.glIn.Triplets++
					e.first = at.Time
					k = triplet{strings.Clone(k.net), strings.Clone(k.from), strings.Clone(k.rcpt)}
				}
				e.n++
				a.glPending[k] = e
			case at.Cause == "rate_limit":
				a.rateClient.add(client, at.Time, 1, 0, "")
				a.rateClient.message(client)
			case strings.Contains(strings.ToLower(at.Reply), "relay access denied") || at.Cause == "auth_required":
				t.RelayDenied++
				a.relayDenied.add(client, at.Time, 1, 0, m.From)
				a.relayDenied.message(client)
			}
		}
	}
}

// expireTriplets drops greylisted triplets not retried within a day.
func (a *Aggregator) expireTriplets(now time.Time) {
	for k, e := range a.glPending {
		if now.Sub(e.first) > 24*time.Hour {
			delete(a.glPending, k)
			a.glIn.NeverRetried++
		}
	}
}

// incomingPass: an accepted message whose (client network, sender,
// recipient) was greylisted by us earlier passed greylisting.
func (a *Aggregator) incomingPass(m *trace.Message) {
	if len(a.glPending) == 0 || m.Client == "" {
		return
	}
	n, from := clientNet(m.Client), strings.ToLower(m.From)
	for _, r := range m.Recipients {
		k := triplet{n, from, strings.ToLower(r.Address)}
		if e, ok := a.glPending[k]; ok {
			delete(a.glPending, k)
			a.glIn.Passed++
			a.glInDelay.add(m.FirstSeen.Sub(e.first).Seconds())
		}
	}
}

// recipientDelay is how long the recipient was held up: from the message's
// arrival to its last attempt (or the last attempt's delay= if larger: the
// log may start after the arrival).
func (a *Aggregator) recipientDelay(m *trace.Message, r *trace.Recipient) float64 {
	if len(r.Attempts) == 0 {
		return 0
	}
	last := r.Attempts[len(r.Attempts)-1]
	d := last.Time.Sub(m.FirstSeen).Seconds()
	if last.Delay > d {
		d = last.Delay
	}
	if d < 0 {
		d = 0
	}
	return d
}

// messageAge is the time in queue: arrival to final outcome, or to the end
// of the log for a message still queued.
func (a *Aggregator) messageAge(m *trace.Message) float64 {
	end := m.LastSeen
	if m.Outcome == trace.OutcomeDeferred || m.Outcome == trace.OutcomeHeld {
		if a.last.After(end) {
			end = a.last
		}
	}
	d := end.Sub(m.FirstSeen).Seconds()
	for _, r := range m.Recipients {
		if n := len(r.Attempts); n > 0 && r.Attempts[n-1].Delay > d && m.Outcome != trace.OutcomeDeferred {
			d = r.Attempts[n-1].Delay
		}
	}
	return max(d, 0)
}

func lastReply(m *trace.Message) string {
	var last trace.Attempt
	for _, r := range m.Recipients {
		for _, at := range r.Attempts {
			if at.Status != "sent" && !at.Time.Before(last.Time) {
				last = at
			}
		}
	}
	return last.Reply
}

func addrs(m *trace.Message) []string {
	out := make([]string, 0, len(m.Recipients))
	for _, r := range m.Recipients {
		out = append(out, r.Address)
	}
	return out
}

func appendOnce(s []string, k string) []string {
	if slices.Contains(s, k) {
		return s
	}
	return append(s, k)
}

func domainOf(addr string) string {
	if k := strings.LastIndexByte(addr, '@'); k >= 0 {
		return strings.ToLower(addr[k+1:])
	}
	if addr == "" {
		return "(none)"
	}
	return "(local)"
}

// relayName is the host an attempt talked to, without the port; for
// "relay=none" it is taken from "connect to HOST[IP]:25: ..." in the reply.
func relayName(at *trace.Attempt) string {
	r := at.Relay
	if r == "" || r == "none" {
		if k := strings.Index(at.Reply, "connect to "); k >= 0 {
			s := at.Reply[k+len("connect to "):]
			if e := strings.IndexByte(s, ']'); e > 0 {
				return s[:e+1]
			}
		}
		if r == "" {
			return "(none)"
		}
		return r
	}
	if k := strings.LastIndexByte(r, ']'); k > 0 {
		r = r[:k+1]
	}
	// Exim writes "host [ip]", Postfix "host[ip]": one key for both
	return strings.Replace(r, " [", "[", 1)
}

// clientNet is the greylisting key of a client: its /24 (IPv4) or /64
// (IPv6), as tempfail serve and postgrey key it; the whole string when no
// address is in it.
func clientNet(client string) string {
	ip := client
	if k := strings.LastIndexByte(client, '['); k >= 0 {
		ip = client[k+1:]
		if e := strings.IndexByte(ip, ']'); e >= 0 {
			ip = ip[:e]
		}
	}
	addr, err := netip.ParseAddr(strings.TrimPrefix(ip, "IPv6:"))
	if err != nil {
		return strings.ToLower(client)
	}
	bits := 64
	if addr.Is4() || addr.Is4In6() {
		addr, bits = addr.Unmap(), 24
	}
	p, _ := addr.Prefix(bits)
	return p.String()
}

func seconds(d time.Duration) float64 { return max(d.Seconds(), 0) }

// table counts attempts and messages per key, with the worst delay; at
// most max keys (the rest is counted under "(other)").
type table struct {
	max  int
	rows map[string]*Row
}

func newTable(max int) *table { return &table{max: max, rows: map[string]*Row{}} }

func (t *table) row(k string) *Row {
	r := t.rows[k]
	if r == nil {
		if len(t.rows) >= t.max {
			k = "(other)"
			if r = t.rows[k]; r != nil {
				return r
			}
		}
		// a copy: k is usually a substring of a log line, which would
		// otherwise stay alive as long as the table
		k = strings.Clone(k)
		r = &Row{Key: k}
		t.rows[k] = r
	}
	return r
}

func (t *table) add(k string, at time.Time, n int64, delay float64, example string) {
	r := t.row(k)
	r.Count += n
	if delay > r.WorstDelay || r.Example == "" {
		if delay > r.WorstDelay {
			r.WorstDelay = delay
		}
		if example != r.Example {
			r.Example = strings.Clone(example)
		}
	}
	if !at.IsZero() {
		if r.First.IsZero() || at.Before(r.First) {
			r.First = at
		}
		if at.After(r.Last) {
			r.Last = at
		}
	}
}

func (t *table) message(k string) { t.row(k).Messages++ }

// sorted returns the rows by count (then key), at most limit.
func (t *table) sorted(limit int) []Row {
	out := make([]Row, 0, len(t.rows))
	for _, r := range t.rows {
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Row) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// topN keeps the limit items with the largest weight.
type topN[T any] struct {
	limit int
	items []weighted[T]
}

type weighted[T any] struct {
	v T
	w float64
}

func (h *topN[T]) Len() int           { return len(h.items) }
func (h *topN[T]) Less(i, j int) bool { return h.items[i].w < h.items[j].w }
func (h *topN[T]) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *topN[T]) Push(x any)         { h.items = append(h.items, x.(weighted[T])) }
func (h *topN[T]) Pop() any {
	x := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return x
}

func (h *topN[T]) push(v T, w float64) {
	if len(h.items) < h.limit {
		heap.Push(h, weighted[T]{v, w})
		return
	}
	if len(h.items) > 0 && w > h.items[0].w {
		h.items[0] = weighted[T]{v, w}
		heap.Fix(h, 0)
	}
}

// sorted returns the kept items, largest weight first.
func (h *topN[T]) sorted() []T {
	c := slices.Clone(h.items)
	slices.SortStableFunc(c, func(a, b weighted[T]) int { return cmp.Compare(b.w, a.w) })
	out := make([]T, len(c))
	for i, x := range c {
		out[i] = x.v
	}
	return out
}

// dist summarises delays: count, max, and percentiles from a reservoir of
// at most 4096 samples (exact below that).
type dist struct {
	n    int64
	sum  float64
	max  float64
	res  []float64
	rand *rand.Rand
}

const reservoir = 4096

func (d *dist) init(seed uint64) { d.rand = rand.New(rand.NewPCG(seed, 0x7e3f)) }

func (d *dist) add(x float64) {
	x = max(x, 0)
	d.n++
	d.sum += x
	d.max = max(d.max, x)
	if len(d.res) < reservoir {
		d.res = append(d.res, x)
	} else if j := d.rand.Int64N(d.n); j < reservoir {
		d.res[j] = x
	}
}

func (d *dist) summary() Delays {
	if d.n == 0 {
		return Delays{}
	}
	s := slices.Clone(d.res)
	slices.Sort(s)
	q := func(p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return Delays{Median: q(0.5), P90: q(0.9), Max: d.max, Mean: d.sum / float64(d.n)}
}

// timeline counts deferrals per time bucket and cause. It starts with
// one-second buckets and moves up a ladder of round widths whenever more
// than maxBuckets would be needed, so its size is bounded whatever the span
// of the log and a short log still gets a readable chart.
type timeline struct {
	width   int64 // seconds
	buckets map[int64]map[string]int64
}

const maxBuckets = 240

var widths = []int64{1, 2, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400}

func (tl *timeline) add(at time.Time, cause string) {
	if at.IsZero() {
		return
	}
	if tl.buckets == nil {
		tl.width = widths[0]
		tl.buckets = map[int64]map[string]int64{}
	}
	for {
		b := floorDiv(at.Unix(), tl.width)
		m := tl.buckets[b]
		if m == nil && tl.span(b) > maxBuckets {
			tl.coarsen()
			continue
		}
		if m == nil {
			m = map[string]int64{}
			tl.buckets[b] = m
		}
		m[cause]++
		return
	}
}

// span is the number of buckets from the first to the last if b is added.
func (tl *timeline) span(b int64) int64 {
	lo, hi := b, b
	for k := range tl.buckets {
		lo, hi = min(lo, k), max(hi, k)
	}
	return hi - lo + 1
}

func (tl *timeline) coarsen() {
	next := tl.width * 2
	for _, w := range widths {
		if w > tl.width {
			next = w
			break
		}
	}
	nb := map[int64]map[string]int64{}
	for b, m := range tl.buckets {
		k := floorDiv(b*tl.width, next)
		dst := nb[k]
		if dst == nil {
			nb[k] = m
			continue
		}
		for c, n := range m {
			dst[c] += n
		}
	}
	tl.width = next
	tl.buckets = nb
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) {
		q--
	}
	return q
}

// delayBins are the delivery-delay histogram's bins (upper bounds, seconds).
var delayBins = [...]struct {
	Label string
	Upper float64
}{
	{"< 1s", 1}, {"1-5s", 5}, {"5-30s", 30}, {"30s-1m", 60}, {"1-5m", 300}, {"5-15m", 900},
	{"15m-1h", 3600}, {"1-4h", 4 * 3600}, {"4-24h", 86400}, {"> 1d", 1e300},
}

func delayBin(d float64) int {
	for i, b := range delayBins {
		if d < b.Upper {
			return i
		}
	}
	return len(delayBins) - 1
}
