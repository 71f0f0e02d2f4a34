package report

import (
	"slices"
	"sort"
	"time"

	"github.com/tempfail/tempfail/internal/explain"
	"github.com/tempfail/tempfail/internal/maillog"
	"github.com/tempfail/tempfail/internal/trace"
)

// Report is the summary of a log. The JSON names are the contract of
// `tempfail report --format json`: add fields, never rename.
type Report struct {
	From time.Time `json:"from"` // first and last log timestamps
	To   time.Time `json:"to"`

	Input  *Input `json:"input,omitempty"`
	Totals Totals `json:"totals"`

	// Deferrals (status=deferred attempts, Exim "==") by the explain cause,
	// by recipient domain and by the relay that answered.
	DeferralsByCause  []Row `json:"deferrals_by_cause"`
	DeferralsByDomain []Row `json:"deferrals_by_domain"`
	DeferralsByRelay  []Row `json:"deferrals_by_relay"`

	Stuck     Stuck     `json:"stuck"`
	Permanent Permanent `json:"permanent_after_deferral"`

	Greylisting Greylisting `json:"greylisting"`
	RateLimits  RateLimits  `json:"rate_limits"`
	Auth        Auth        `json:"auth"`

	Timeline  Timeline   `json:"deferral_timeline"`
	DelayHist []DelayBin `json:"delivery_delay_histogram"`
}

// Input describes what was read.
type Input struct {
	Files    []string         `json:"files"`
	Lines    int64            `json:"lines"`
	Bytes    int64            `json:"bytes"`
	Unparsed int64            `json:"unparsed"`
	Samples  []maillog.Sample `json:"unparsed_samples,omitempty"`
	Messages int64            `json:"messages"`
	PeakOpen int              `json:"peak_open_messages"`
	Evicted  int64            `json:"evicted"`
}

// Totals. Received counts messages queued (smtpd, pickup, Exim "<="),
// Notifications the bounce/delay notifications Postfix or Exim made.
// Delivered, Bounced, Expired, StillQueued, Held and Deleted count
// recipients by final outcome; Rejected counts recipients (or whole
// transactions) refused before queueing or by cleanup/milter. Deferred
// counts recipients deferred at least once, DeferredMessages the
// messages, DeferralAttempts every deferral.
type Totals struct {
	Received         int64 `json:"received"`
	Notifications    int64 `json:"notifications"`
	Delivered        int64 `json:"delivered"`
	Deferred         int64 `json:"deferred"`
	DeferredMessages int64 `json:"deferred_messages"`
	DeferralAttempts int64 `json:"deferral_attempts"`
	Bounced          int64 `json:"bounced"`
	Expired          int64 `json:"expired"`
	Rejected         int64 `json:"rejected"`
	StillQueued      int64 `json:"still_queued"`
	Held             int64 `json:"held"`
	Deleted          int64 `json:"deleted"`
	RelayDenied      int64 `json:"relay_denied"`
	SASLFailures     int64 `json:"sasl_failures"`
}

// Row is one line of a table: Count events (attempts, rejects, failures)
// for Key, Messages distinct messages, WorstDelay the longest a message
// counted here was held up (seconds, arrival to its last attempt), Example
// a queue id (or sender, or SASL method) to look at.
type Row struct {
	Key        string    `json:"key"`
	Count      int64     `json:"count"`
	Messages   int64     `json:"messages,omitempty"` // absent in tables of events that belong to no message
	WorstDelay float64   `json:"worst_delay,omitempty"`
	First      time.Time `json:"first"`
	Last       time.Time `json:"last"`
	Example    string    `json:"example,omitempty"`
}

// Stuck lists messages that spent longer than Threshold in the queue
// (arrival to final outcome, or to the end of the log if still queued),
// the longest first.
type Stuck struct {
	Threshold float64        `json:"threshold"` // seconds
	Count     int64          `json:"count"`
	Messages  []StuckMessage `json:"messages"`
}

// StuckMessage is one stuck message.
type StuckMessage struct {
	QueueID    string    `json:"queue_id"`
	MessageID  string    `json:"message_id,omitempty"`
	From       string    `json:"from"`
	Recipients []string  `json:"recipients"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	InQueue    float64   `json:"in_queue"` // seconds
	Outcome    string    `json:"outcome"`
	LastReply  string    `json:"last_reply,omitempty"`
}

// Permanent lists recipients whose deferrals ended in a permanent failure
// (bounced or expired): the seed's "where it meets a permanent failure".
type Permanent struct {
	Count    int64              `json:"count"`
	Failures []PermanentFailure `json:"failures"`
}

// PermanentFailure is one such recipient.
type PermanentFailure struct {
	QueueID       string    `json:"queue_id"`
	MessageID     string    `json:"message_id,omitempty"`
	From          string    `json:"from"`
	Recipient     string    `json:"recipient"`
	FirstDeferral time.Time `json:"first_deferral"`
	FirstCause    string    `json:"first_cause"`
	FirstReply    string    `json:"first_reply,omitempty"`
	Deferrals     int       `json:"deferrals"`
	FailedAt      time.Time `json:"failed_at"`
	Outcome       string    `json:"outcome"` // bounced or expired
	DSN           string    `json:"dsn,omitempty"`
	Cause         string    `json:"cause"`
	Reply         string    `json:"reply,omitempty"`
	Why           string    `json:"why,omitempty"`
	InQueue       float64   `json:"in_queue"` // seconds
}

// Greylisting from both sides.
type Greylisting struct {
	Outgoing GreylistOut `json:"outgoing"`
	Incoming GreylistIn  `json:"incoming"`
}

// GreylistOut: our mail greylisted by destinations. Delay is from the
// first greylisted attempt to delivery.
type GreylistOut struct {
	Recipients   int64  `json:"recipients"`
	GotThrough   int64  `json:"got_through"`
	StillWaiting int64  `json:"still_waiting"`
	Failed       int64  `json:"failed"`
	Delay        Delays `json:"delay"`
	ByDomain     []Row  `json:"by_domain"`
}

// GreylistIn: clients greylisted by this server (NOQUEUE rejects whose
// cause is greylisting). A triplet (client /24 or /64, sender, recipient)
// passed when a later message from it was accepted; Delay is from its
// first reject to that acceptance.
type GreylistIn struct {
	Rejects      int64   `json:"rejects"`
	Triplets     int64   `json:"triplets"`
	Passed       int64   `json:"passed"`
	PassRate     float64 `json:"pass_rate"`
	Pending      int64   `json:"pending"`
	NeverRetried int64   `json:"never_retried"` // dropped after a day without retry
	Dropped      int64   `json:"dropped,omitempty"`
	Delay        Delays  `json:"delay"`
}

// Delays summarises durations in seconds.
type Delays struct {
	Median float64 `json:"median"`
	P90    float64 `json:"p90"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
}

// RateLimits: rate-limit and throttling replies (cause rate_limit).
// ByDestination are our deliveries throttled by other servers; ByClient
// clients this server refused for their rate.
type RateLimits struct {
	ByDestination []Row `json:"by_destination"`
	ByClient      []Row `json:"by_client"`
}

// Auth: SMTP AUTH problems. RelayDenied are clients refused with "Relay
// access denied" (sending to other domains without authenticating);
// SASLFailures failed AUTH attempts by client (Example: the mechanism).
type Auth struct {
	RelayDenied  []Row `json:"relay_denied"`
	SASLFailures []Row `json:"sasl_failures"`
}

// Timeline is deferrals per time bucket and cause.
type Timeline struct {
	Bucket  float64  `json:"bucket"` // seconds
	Causes  []string `json:"causes"`
	Buckets []Bucket `json:"buckets"`
}

// Bucket is one time slot; Counts follows Timeline.Causes.
type Bucket struct {
	Start  time.Time `json:"start"`
	Counts []int64   `json:"counts"`
}

// DelayBin is one bin of the delivery delay histogram (arrival to
// delivery): FirstTry recipients delivered at their first attempt,
// AfterDeferral those delivered after one or more deferrals.
type DelayBin struct {
	Label         string  `json:"label"`
	Upper         float64 `json:"upper"` // seconds, exclusive; the last bin is open
	FirstTry      int64   `json:"first_try"`
	AfterDeferral int64   `json:"after_deferral"`
}

// Report returns the summary so far. The Aggregator stays usable.
func (a *Aggregator) Report() *Report {
	lim := a.opt.Limit
	r := &Report{From: a.first, To: a.last, Totals: a.totals}
	r.DeferralsByCause = a.byCause.sorted(len(a.byCause.rows))
	r.DeferralsByDomain = a.byDomain.sorted(lim)
	r.DeferralsByRelay = a.byRelay.sorted(lim)
	r.Stuck = Stuck{Threshold: a.opt.Stuck.Seconds(), Count: a.stuckN, Messages: a.stuck.sorted()}
	r.Permanent = Permanent{Count: a.permN, Failures: slices.Clone(a.permanent)}
	if r.Stuck.Messages == nil {
		r.Stuck.Messages = []StuckMessage{}
	}
	if r.Permanent.Failures == nil {
		r.Permanent.Failures = []PermanentFailure{}
	}
	g := a.glOut
	g.Delay = a.glOutDelay.summary()
	g.ByDomain = a.glOutDomain.sorted(lim)
	r.Greylisting.Outgoing = g
	in := a.glIn
	in.Pending = int64(len(a.glPending))
	if in.Triplets > 0 {
		in.PassRate = float64(in.Passed) / float64(in.Triplets)
	}
	in.Delay = a.glInDelay.summary()
	r.Greylisting.Incoming = in
	r.RateLimits = RateLimits{ByDestination: a.rateDomain.sorted(lim), ByClient: a.rateClient.sorted(lim)}
	r.Auth = Auth{RelayDenied: a.relayDenied.sorted(lim), SASLFailures: a.saslFailed.sorted(lim)}
	r.Timeline = a.timeline.report()
	for i, b := range delayBins {
		up := b.Upper
		if i == len(delayBins)-1 {
			up = 0
		}
		r.DelayHist = append(r.DelayHist, DelayBin{Label: b.Label, Upper: up, FirstTry: a.delayHist[i][0], AfterDeferral: a.delayHist[i][1]})
	}
	return r
}

func (tl *timeline) report() Timeline {
	out := Timeline{Bucket: float64(tl.width), Causes: []string{}, Buckets: []Bucket{}}
	if len(tl.buckets) == 0 {
		return out
	}
	seen := map[string]bool{}
	var keys []int64
	for b, m := range tl.buckets {
		keys = append(keys, b)
		for c := range m {
			seen[c] = true
		}
	}
	// causes in the taxonomy's order
	for _, c := range explain.Causes {
		if seen[c] {
			out.Causes = append(out.Causes, c)
			delete(seen, c)
		}
	}
	var rest []string
	for c := range seen {
		rest = append(rest, c)
	}
	sort.Strings(rest)
	out.Causes = append(out.Causes, rest...)
	slices.Sort(keys)
	// every bucket from the first to the last, empty ones included, so the
	// chart's time axis is linear
	for b := keys[0]; b <= keys[len(keys)-1]; b++ {
		m := tl.buckets[b]
		counts := make([]int64, len(out.Causes))
		for i, c := range out.Causes {
			counts[i] = m[c]
		}
		out.Buckets = append(out.Buckets, Bucket{Start: time.Unix(b*tl.width, 0), Counts: counts})
	}
	return out
}

// Build reads a whole log through a Correlator classified by explain and
// returns its report: the one-call form of what `tempfail report` does.
func Build(r *maillog.Reader, ex *explain.Explainer, opt Options, keep func(*trace.Message) bool) *Report {
	a := New(opt)
	c := trace.New(trace.Options{Classifier: trace.ExplainClassifier(ex), Emit: func(m *trace.Message) {
		if keep == nil || keep(m) {
			a.AddMessage(m)
		}
	}})
	maillog.Pump(r, func(ev *maillog.Event) {
		a.AddEvent(ev)
		c.Add(ev)
	})
	c.Flush()
	rep := a.Report()
	st, cs := r.Stats(), c.Stats()
	rep.Input = &Input{Lines: st.Lines, Bytes: st.Bytes, Unparsed: st.Unparsed, Samples: st.Samples,
		Messages: cs.Messages, PeakOpen: cs.PeakOpen, Evicted: cs.Evicted}
	return rep
}
