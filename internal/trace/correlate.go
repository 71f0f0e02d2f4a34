package trace

import (
	"strings"

	"github.com/tempfail/tempfail/internal/maillog"
)

// DefaultMaxOpen bounds the messages held open at once (see
// Options.MaxOpen). A few hundred bytes to a few KiB each.
const DefaultMaxOpen = 200_000

// Options configure a Correlator.
type Options struct {
	// Classifier gives each non-successful attempt its cause and
	// temporary flag. Nil: DefaultClassifier.
	Classifier Classifier
	// MaxOpen caps messages still open; past it the oldest open message is
	// emitted early, marked Evicted and Incomplete, and counted. It guards
	// against logs that never close messages (lost "removed" lines, a log
	// that starts mid-queue). 0: DefaultMaxOpen.
	MaxOpen int
	// Emit receives each message once, when it is complete ("removed",
	// "Completed", a NOQUEUE reject, a cleanup reject), evicted, or at
	// Flush. The Correlator does not touch a message after emitting it.
	Emit func(*Message)
}

// Stats counts what a Correlator did.
type Stats struct {
	Events   int64 `json:"events"`   // events fed in
	Messages int64 `json:"messages"` // messages emitted
	Rejects  int64 `json:"rejects"`  // of which NOQUEUE / before-queue rejects
	Linked   int64 `json:"linked"`   // queue ids joined to another (re-injection)
	Reused   int64 `json:"reused"`   // queue ids seen starting a new message while still open
	Evicted  int64 `json:"evicted"`  // messages emitted early because of MaxOpen
	Open     int   `json:"open"`     // messages open now
	PeakOpen int   `json:"peak_open"`
}

type key struct{ host, id string }

type pidKey struct {
	host string
	pid  int
}

type tlsInfo struct{ relay, level string }

// entry is an open message with its bookkeeping.
type entry struct {
	msg        *Message
	keys       []key
	openIDs    int
	started    bool // client=/uid=/<= seen: a second one is queue id reuse
	held       bool
	prev, next *entry
}

// Correlator turns a stream of maillog events into Messages. It is not safe
// for concurrent use; feed it from one goroutine in log order. State carries
// across files, so a rotated set read in order is one stream.
type Correlator struct {
	opt     Options
	cls     Classifier
	open    map[key]*entry
	pending map[key]*entry // loopback "queued as ID" seen before ID's first line
	tls     map[pidKey]tlsInfo
	head    *entry // oldest
	tail    *entry
	n       int
	stats   Stats
}

// New returns a Correlator.
func New(opt Options) *Correlator {
	if opt.MaxOpen <= 0 {
		opt.MaxOpen = DefaultMaxOpen
	}
	cls := opt.Classifier
	if cls == nil {
		cls = DefaultClassifier{}
	}
	return &Correlator{opt: opt, cls: cls, open: map[key]*entry{}, pending: map[key]*entry{}, tls: map[pidKey]tlsInfo{}}
}

// Stats returns the counters so far.
func (c *Correlator) Stats() Stats {
	s := c.stats
	s.Open = c.n
	return s
}

// Add feeds one event. Events of kinds the model does not use are ignored.
func (c *Correlator) Add(ev *maillog.Event) {
	c.stats.Events++
	switch ev.Kind {
	case maillog.KindTLS:
		if ev.Relay != "" && ev.PID != 0 {
			if len(c.tls) > 1<<16 {
				clear(c.tls)
			}
			c.tls[pidKey{ev.Host, ev.PID}] = tlsInfo{relay: ev.Relay, level: ev.TLS}
		}
		return
	case maillog.KindReject:
		c.reject(ev)
		return
	case maillog.KindClient, maillog.KindPickup, maillog.KindMessageID, maillog.KindQueued,
		maillog.KindDelivery, maillog.KindExpired, maillog.KindRemoved, maillog.KindBounce,
		maillog.KindHold, maillog.KindRelease:
	default:
		return
	}
	if ev.QueueID == "" {
		return
	}
	k := key{ev.Host, ev.QueueID}
	switch ev.Kind {
	case maillog.KindClient, maillog.KindPickup:
		e := c.open[k]
		if e != nil && e.started {
			c.reuse(e)
			e = nil
		}
		if e == nil {
			if ev.Kind == maillog.KindClient && ev.NewQueueID != "" {
				// smtpd "orig_queue_id=" (XFORWARD from a content filter)
				if o := c.open[key{ev.Host, ev.NewQueueID}]; o != nil {
					c.link(o, k)
					e = o
				}
			}
		}
		if e == nil {
			e = c.get(k, ev)
		}
		e.started = true
		m := e.msg
		c.touch(m, ev)
		if m.Client == "" && ev.Kind == maillog.KindClient {
			m.Client, m.SASLUsername = ev.Client, ev.SASLUser
		}
		if ev.Kind == maillog.KindPickup && m.From == "" {
			m.From = ev.From
		}
		return
	case maillog.KindQueued:
		e := c.open[k]
		if ev.MTA == maillog.MTAExim && e != nil && e.started {
			c.reuse(e)
			e = nil
		}
		if e == nil {
			e = c.get(k, ev)
		}
		m := e.msg
		c.touch(m, ev)
		m.From = ev.From
		if ev.Size > 0 {
			m.Size = ev.Size
		}
		if ev.Nrcpt > 0 {
			m.Nrcpt = ev.Nrcpt
		}
		if ev.MTA == maillog.MTAExim {
			e.started = true
			if m.Client == "" {
				m.Client, m.SASLUsername = ev.Client, ev.SASLUser
			}
			if ev.MessageID != "" {
				m.MessageID = ev.MessageID
			}
			if ev.From == "" && ev.NewQueueID != "" {
				// Exim bounce: "<= <> R=original-id"
				m.BounceOf = ev.NewQueueID
				if o := c.open[key{ev.Host, ev.NewQueueID}]; o != nil {
					o.msg.BounceQueueID = ev.QueueID
				}
			}
		}
		return
	}
	e := c.get(k, ev)
	m := e.msg
	c.touch(m, ev)
	switch ev.Kind {
	case maillog.KindMessageID:
		if m.MessageID == "" {
			m.MessageID = ev.MessageID
		}
	case maillog.KindDelivery:
		c.delivery(e, ev)
	case maillog.KindExpired:
		for _, r := range m.Recipients {
			if r.Outcome == OutcomeDeferred || r.Outcome == OutcomeHeld || r.Outcome == "" {
				a := Attempt{Time: ev.Time, QueueID: ev.QueueID, Status: "expired", File: ev.File, LineNo: ev.LineNo}
				reply := ev.Reply
				if n := len(r.Attempts); n > 0 {
					last := r.Attempts[n-1]
					a.Relay, a.DSN, reply = last.Relay, last.DSN, last.Reply
				}
				a.Reply = reply
				cl := c.cls.Classify(reply, hint(ev, "expired", a.DSN, a.Relay))
				a.Cause, a.Temporary, a.Why = cl.Cause, cl.Temporary, firstSentence(cl.Summary)
				r.Attempts = append(r.Attempts, a)
				r.Outcome = OutcomeExpired
			}
		}
		if len(m.Recipients) == 0 {
			m.Outcome = OutcomeExpired
		}
	case maillog.KindBounce:
		m.BounceQueueID = ev.NewQueueID
		nk := key{ev.Host, ev.NewQueueID}
		if n := c.open[nk]; n != nil {
			n.msg.BounceOf = ev.QueueID
		} else if ev.NewQueueID != "" {
			n := c.get(nk, ev)
			n.msg.BounceOf = ev.QueueID
		}
	case maillog.KindHold:
		e.held = true
		for _, r := range m.Recipients {
			if r.Outcome == OutcomeDeferred || r.Outcome == "" {
				r.Outcome = OutcomeHeld
			}
		}
	case maillog.KindRelease:
		e.held = false
		for _, r := range m.Recipients {
			if r.Outcome == OutcomeHeld {
				r.Outcome = OutcomeDeferred
			}
		}
	case maillog.KindRemoved:
		if ev.Daemon == "postsuper" {
			// deleted by the admin: what was still pending is deleted
			for _, r := range m.Recipients {
				if r.Outcome == OutcomeDeferred || r.Outcome == OutcomeHeld || r.Outcome == "" {
					r.Outcome = OutcomeDeleted
				}
			}
			if len(m.Recipients) == 0 && m.Outcome == "" {
				m.Outcome = OutcomeDeleted
			}
		}
		delete(c.open, k)
		e.openIDs--
		if e.openIDs <= 0 {
			c.finish(e, false)
		}
	}
}

func (c *Correlator) delivery(e *entry, ev *maillog.Event) {
	m := e.msg
	r := m.recipient(ev.To, ev.OrigTo)
	a := Attempt{
		Time: ev.Time, QueueID: ev.QueueID, Relay: ev.Relay, DSN: ev.DSN, Status: ev.Status, Reply: ev.Reply,
		Delay: ev.Delay, ConnUse: ev.ConnUse, TLS: ev.TLS, File: ev.File, LineNo: ev.LineNo,
	}
	if ev.HasDelays {
		d := ev.Delays
		a.Delays = &d
	}
	if a.TLS == "" && ev.PID != 0 {
		if t, ok := c.tls[pidKey{ev.Host, ev.PID}]; ok && t.relay == ev.Relay {
			a.TLS = t.level
		}
	}
	switch ev.Status {
	case "sent", "deliverable":
		r.Outcome = OutcomeDelivered
		if ev.Daemon == "discard" {
			r.Outcome = OutcomeDiscarded
		}
		if id := queuedAs(ev.Reply); id != "" && id != ev.QueueID {
			nk := key{ev.Host, id}
			if o := c.open[nk]; o != nil && o != e {
				c.link(e, nk)
			} else if o == nil && loopback(ev.Relay) {
				if len(c.pending) > 1<<14 {
					clear(c.pending)
				}
				c.pending[nk] = e
			}
		}
	default:
		cl := c.cls.Classify(ev.Reply, hint(ev, ev.Status, ev.DSN, ev.Relay))
		a.Cause, a.Temporary, a.Why = cl.Cause, cl.Temporary, firstSentence(cl.Summary)
		switch ev.Status {
		case "deferred":
			r.Outcome = OutcomeDeferred
			if e.held {
				r.Outcome = OutcomeHeld
			}
		case "bounced", "undeliverable":
			r.Outcome = OutcomeBounced
		case "expired":
			r.Outcome = OutcomeExpired
		default:
			r.Outcome = OutcomeDeferred
		}
	}
	r.Attempts = append(r.Attempts, a)
}

func hint(ev *maillog.Event, status, dsn, relay string) Hint {
	return Hint{MTA: ev.MTA.String(), Status: status, Action: ev.Action, DSN: dsn, Code: ev.Code, Relay: relay, Line: ev.Line}
}

// reject handles smtpd/postscreen/cleanup/milter actions and Exim rejects.
func (c *Correlator) reject(ev *maillog.Event) {
	outcome := OutcomeRejected
	switch ev.Action {
	case "reject", "defer", "defer_if_permit", "defer_if_reject", "milter-reject", "milter-defer", "proxy-reject":
	case "discard", "milter-discard":
		outcome = OutcomeDiscarded
	case "hold", "milter-hold":
		outcome = OutcomeHeld
	default:
		return // warning, info, prepend, redirect, filter...: not a verdict on delivery
	}
	a := Attempt{Time: ev.Time, QueueID: ev.QueueID, Status: "reject", Reply: ev.Reply, DSN: ev.DSN, File: ev.File, LineNo: ev.LineNo}
	if outcome == OutcomeRejected {
		cl := c.cls.Classify(ev.Reply, hint(ev, "reject", ev.DSN, ""))
		a.Cause, a.Temporary, a.Why = cl.Cause, cl.Temporary, firstSentence(cl.Summary)
	} else {
		a.Status = ev.Action
	}
	if ev.QueueID == "" {
		// NOQUEUE: a message of its own, complete at once.
		m := &Message{Host: ev.Host, MTA: ev.MTA.String(), From: ev.From, Client: ev.Client, FirstSeen: ev.Time, LastSeen: ev.Time,
			RejectAction: ev.Action, RejectStage: ev.Stage, Recipients: []*Recipient{}}
		if ev.To != "" {
			r := m.recipient(ev.To, "")
			r.Outcome = outcome
			r.Attempts = append(r.Attempts, a)
		} else {
			m.Outcome = outcome
		}
		c.stats.Rejects++
		c.emit(m)
		return
	}
	k := key{ev.Host, ev.QueueID}
	e := c.get(k, ev)
	m := e.msg
	c.touch(m, ev)
	if m.From == "" {
		m.From = ev.From
	}
	if m.Client == "" {
		m.Client = ev.Client
	}
	if ev.Daemon == "smtpd" && ev.Stage == "RCPT" {
		// one recipient refused inside an accepted transaction
		if ev.To != "" {
			r := m.recipient(ev.To, "")
			r.Outcome = outcome
			r.Attempts = append(r.Attempts, a)
		}
		return
	}
	// the whole message (cleanup header/body checks, milter at DATA/END-OF-MESSAGE)
	m.RejectAction, m.RejectStage = ev.Action, ev.Stage
	if ev.To != "" {
		r := m.recipient(ev.To, "")
		r.Attempts = append(r.Attempts, a)
	}
	for _, r := range m.Recipients {
		if r.Outcome != OutcomeDelivered {
			r.Outcome = outcome
		}
	}
	if len(m.Recipients) == 0 {
		m.Outcome = outcome
	}
	if outcome == OutcomeHeld {
		e.held = true
		return
	}
	// cleanup deletes the queue file: no "removed" line follows.
	delete(c.open, k)
	e.openIDs--
	if e.openIDs <= 0 {
		c.finish(e, false)
	}
}

// get finds the open entry for k or opens a new message.
func (c *Correlator) get(k key, ev *maillog.Event) *entry {
	if e := c.open[k]; e != nil {
		return e
	}
	if e := c.pending[k]; e != nil {
		delete(c.pending, k)
		if e.openIDs > 0 {
			c.attach(e, k)
			return e
		}
	}
	if c.n >= c.opt.MaxOpen && c.head != nil {
		c.stats.Evicted++
		old := c.head
		for _, kk := range old.keys {
			if c.open[kk] == old {
				delete(c.open, kk)
			}
		}
		old.msg.Evicted = true
		c.finish(old, true)
	}
	m := &Message{Host: ev.Host, MTA: ev.MTA.String(), QueueID: k.id, FirstSeen: ev.Time, LastSeen: ev.Time, Recipients: []*Recipient{}}
	e := &entry{msg: m, keys: []key{k}, openIDs: 1}
	c.open[k] = e
	c.push(e)
	return e
}

// attach adds a new queue id to an open message.
func (c *Correlator) attach(e *entry, k key) {
	c.open[k] = e
	e.keys = append(e.keys, k)
	e.openIDs++
	c.stats.Linked++
}

// link joins queue id k to e's message; if k already has a message of its
// own (the re-injected copy was logged before the "queued as" line), that
// message is merged into e's.
func (c *Correlator) link(e *entry, k key) {
	o := c.open[k]
	if o == e {
		return
	}
	if o == nil {
		c.attach(e, k)
		return
	}
	c.stats.Linked++
	c.unlinkList(o)
	m, om := e.msg, o.msg
	for _, kk := range o.keys {
		if c.open[kk] == o {
			c.open[kk] = e
		}
		e.keys = append(e.keys, kk)
	}
	e.openIDs += o.openIDs
	if m.MessageID == "" {
		m.MessageID = om.MessageID
	}
	if om.FirstSeen.Before(m.FirstSeen) {
		m.FirstSeen = om.FirstSeen
	}
	if om.LastSeen.After(m.LastSeen) {
		m.LastSeen = om.LastSeen
	}
	for _, r := range om.Recipients {
		rr := m.recipient(r.Address, r.OrigTo)
		rr.Attempts = append(rr.Attempts, r.Attempts...)
		if len(r.Attempts) > 0 {
			rr.Outcome = r.Outcome
		}
	}
	e.held = e.held || o.held
}

// reuse emits a message whose queue id starts a new life without a
// "removed" line in between (lost line, or the log starts mid-way).
func (c *Correlator) reuse(e *entry) {
	c.stats.Reused++
	for _, kk := range e.keys {
		if c.open[kk] == e {
			delete(c.open, kk)
		}
	}
	c.finish(e, true)
}

func (c *Correlator) touch(m *Message, ev *maillog.Event) {
	if ev.Time.IsZero() {
		return
	}
	if m.FirstSeen.IsZero() || ev.Time.Before(m.FirstSeen) {
		m.FirstSeen = ev.Time
	}
	if ev.Time.After(m.LastSeen) {
		m.LastSeen = ev.Time
	}
}

func (c *Correlator) finish(e *entry, incomplete bool) {
	c.unlinkList(e)
	m := e.msg
	if incomplete {
		m.Incomplete = true
	}
	if e.held {
		for _, r := range m.Recipients {
			if r.Outcome == OutcomeDeferred || r.Outcome == "" {
				r.Outcome = OutcomeHeld
			}
		}
		if len(m.Recipients) == 0 && m.Outcome == "" {
			m.Outcome = OutcomeHeld
		}
	}
	ids := make([]string, 0, len(e.keys))
	for _, k := range e.keys {
		ids = append(ids, k.id)
	}
	if len(ids) > 1 {
		m.QueueIDs = ids
	} else {
		for _, r := range m.Recipients {
			for i := range r.Attempts {
				r.Attempts[i].QueueID = ""
			}
		}
	}
	c.emit(m)
}

func (c *Correlator) emit(m *Message) {
	if len(m.Recipients) > 0 || m.Outcome == "" {
		m.Outcome = ""
		m.finishOutcome()
	}
	c.stats.Messages++
	if c.opt.Emit != nil {
		c.opt.Emit(m)
	}
}

// Flush emits every message still open, oldest first, marked Incomplete:
// their pending recipients are "deferred" (still queued) or "held". Call it
// at the end of the input.
func (c *Correlator) Flush() {
	for c.head != nil {
		e := c.head
		for _, kk := range e.keys {
			if c.open[kk] == e {
				delete(c.open, kk)
			}
		}
		c.finish(e, true)
	}
	clear(c.pending)
}

func (c *Correlator) push(e *entry) {
	e.prev = c.tail
	if c.tail != nil {
		c.tail.next = e
	} else {
		c.head = e
	}
	c.tail = e
	c.n++
	if c.n > c.stats.PeakOpen {
		c.stats.PeakOpen = c.n
	}
}

func (c *Correlator) unlinkList(e *entry) {
	if e.prev == nil && e.next == nil && c.head != e {
		return // not in the list
	}
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		c.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		c.tail = e.prev
	}
	e.prev, e.next = nil, nil
	c.n--
}

// queuedAs finds "queued as ID" in a 250 reply (content filter
// re-injection, or the next hop's queue id).
func queuedAs(reply string) string {
	k := strings.LastIndex(reply, "queued as ")
	if k < 0 {
		return ""
	}
	s := reply[k+len("queued as "):]
	e := 0
	for e < len(s) && (s[e] >= '0' && s[e] <= '9' || s[e] >= 'A' && s[e] <= 'Z' || s[e] >= 'a' && s[e] <= 'z') {
		e++
	}
	if e < 5 {
		return ""
	}
	return s[:e]
}

// loopback reports whether a Postfix relay field names this host: a
// content filter on 127.0.0.0/8 or ::1.
func loopback(relay string) bool {
	return strings.Contains(relay, "[127.") || strings.Contains(relay, "[::1]") || strings.HasPrefix(relay, "localhost[")
}
