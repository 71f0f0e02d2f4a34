package trace

import (
	"time"

	"github.com/tempfail/tempfail/internal/maillog"
)

// Outcome is the state of a recipient or message when it was emitted.
type Outcome string

// Outcomes, from best to worst (Message.Outcome is the worst of its
// recipients by this order).
const (
	OutcomeDelivered Outcome = "delivered"
	OutcomeDiscarded Outcome = "discarded" // dropped on purpose (DISCARD action, discard transport)
	OutcomeDeferred  Outcome = "deferred"  // still queued: last attempt deferred, or no attempt seen, at end of input
	OutcomeHeld      Outcome = "held"      // in the hold queue (postsuper -h, HOLD action, Exim frozen)
	OutcomeDeleted   Outcome = "deleted"   // removed by the admin (postsuper -d) before a final outcome
	OutcomeExpired   Outcome = "expired"   // maximal_queue_lifetime reached, returned to sender
	OutcomeBounced   Outcome = "bounced"   // permanent failure
	OutcomeRejected  Outcome = "rejected"  // refused before queueing (NOQUEUE, Exim rejected RCPT) or by cleanup/milter
	OutcomeUnknown   Outcome = "unknown"   // no recipient seen
)

var outcomeRank = map[Outcome]int{
	OutcomeUnknown: 0, OutcomeDelivered: 1, OutcomeDiscarded: 2, OutcomeDeferred: 3, OutcomeHeld: 4,
	OutcomeDeleted: 5, OutcomeExpired: 6, OutcomeBounced: 7, OutcomeRejected: 8,
}

// Worse reports whether a is worse than b.
func Worse(a, b Outcome) bool { return outcomeRank[a] > outcomeRank[b] }

// Attempt is one delivery attempt for one recipient (or a reject).
type Attempt struct {
	Time      time.Time       `json:"time"`
	QueueID   string          `json:"queue_id,omitempty"` // the queue id that made it, when the message has several
	Relay     string          `json:"relay,omitempty"`
	DSN       string          `json:"dsn,omitempty"`
	Status    string          `json:"status"` // sent, deferred, bounced, expired, reject
	Reply     string          `json:"reply,omitempty"`
	Cause     string          `json:"cause,omitempty"` // from the Classifier; empty for sent
	Temporary bool            `json:"temporary"`
	Why       string          `json:"why,omitempty"` // first sentence of the classifier's summary
	Delay     float64         `json:"delay,omitempty"`
	Delays    *maillog.Delays `json:"delays,omitempty"`
	ConnUse   int             `json:"conn_use,omitempty"`
	TLS       string          `json:"tls,omitempty"`
	File      string          `json:"-"`
	LineNo    int64           `json:"-"`
}

// Recipient is one envelope recipient and its attempts, oldest first.
type Recipient struct {
	Address  string    `json:"address"`
	OrigTo   string    `json:"orig_to,omitempty"`
	Outcome  Outcome   `json:"outcome"`
	Attempts []Attempt `json:"attempts"`
}

// Message is one message followed through the log. For Postfix the key is
// (host, queue id); a content-filter re-injection ("queued as NEWID" to a
// loopback relay, or to a queue id already open on the same host) joins the
// new queue id to the same Message (QueueIDs lists them all). NOQUEUE
// rejects are Messages of their own with QueueID "" and one rejected
// recipient.
type Message struct {
	Host         string       `json:"host,omitempty"`
	MTA          string       `json:"mta"`
	QueueID      string       `json:"queue_id"`
	QueueIDs     []string     `json:"queue_ids,omitempty"`
	MessageID    string       `json:"message_id,omitempty"`
	From         string       `json:"from"`
	Client       string       `json:"client,omitempty"`
	SASLUsername string       `json:"sasl_username,omitempty"`
	Size         int64        `json:"size,omitempty"`
	Nrcpt        int          `json:"nrcpt,omitempty"`
	Recipients   []*Recipient `json:"recipients"`
	FirstSeen    time.Time    `json:"first_seen"`
	LastSeen     time.Time    `json:"last_seen"`
	Outcome      Outcome      `json:"outcome"`
	// BounceQueueID is the queue id of the notification this message
	// caused (bounce "sender non-delivery notification: ID", Exim "<= <>
	// R=id"); BounceOf, on a notification, the message it reports on.
	BounceQueueID string `json:"bounce_queue_id,omitempty"`
	BounceOf      string `json:"bounce_of,omitempty"`
	// Reject is set for messages refused before queueing (NOQUEUE) and for
	// whole-message rejects by cleanup/milter: the action and stage.
	RejectAction string `json:"reject_action,omitempty"`
	RejectStage  string `json:"reject_stage,omitempty"`
	// Incomplete: the message was still open at the end of the input, or
	// evicted by the open-message cap.
	Incomplete bool `json:"incomplete,omitempty"`
	Evicted    bool `json:"evicted,omitempty"`
}

// recipient finds or adds a recipient.
func (m *Message) recipient(addr, orig string) *Recipient {
	for _, r := range m.Recipients {
		if r.Address == addr && (orig == "" || r.OrigTo == "" || r.OrigTo == orig) {
			if r.OrigTo == "" {
				r.OrigTo = orig
			}
			return r
		}
	}
	// after a re-injection the filter may have rewritten the address into
	// orig_to: match the earlier hop's address
	if orig != "" {
		for _, r := range m.Recipients {
			if r.Address == orig {
				return r
			}
		}
	}
	r := &Recipient{Address: addr, OrigTo: orig, Attempts: []Attempt{}}
	m.Recipients = append(m.Recipients, r)
	return r
}

func (m *Message) finishOutcome() {
	if len(m.Recipients) == 0 {
		if m.Outcome == "" {
			m.Outcome = OutcomeUnknown
		}
		return
	}
	worst := OutcomeUnknown
	for _, r := range m.Recipients {
		if r.Outcome == "" {
			r.Outcome = OutcomeDeferred
		}
		if Worse(r.Outcome, worst) {
			worst = r.Outcome
		}
	}
	m.Outcome = worst
}
