package engine

import (
	"context"

	"github.com/tempfail/tempfail/internal/policy"
)

// Postfix applies one action per policy answer, and a PREPEND can only be
// answered at RCPT or DATA (not at END-OF-MESSAGE: the headers are written
// by then). So a check that wants a header on the message but need not
// decide anything queues it with AddHeader (or, cheaper, implements
// Headerer: SPF's Received-SPF, built only when it is sent), and the
// engine hands queued headers out, one per answer, on the requests of the
// transaction that would otherwise answer DUNNO: the first RCPT usually,
// or the next RCPT / the DATA request when the first RCPT had something
// else to say (greylisting's X-Greylist, a deferral). A transaction
// deferred at its only RCPT never gets its queued headers; nothing is lost
// by that, the message is not accepted.

const headersKey = "engine.headers"

// AddHeader queues a header ("Name: value") for the message of this
// transaction. Without a transaction (no Postfix instance) or in a dry
// run it is dropped.
func (c *Call) AddHeader(text string) {
	if c.Txn == nil || c.Req.DryRun {
		return
	}
	c.Txn.Update(headersKey, func(old any) any {
		q, _ := old.([]string)
		return append(q, text)
	})
}

// withHeader turns a non-final answer without a header of its own into
// the next queued PREPEND, or else the first header a Headerer offers,
// keeping the deciding check and reason for the log.
func withHeader(ctx context.Context, o *Options, c *Call, v policy.Verdict) policy.Verdict {
	if c.Txn == nil || c.Req.DryRun || v.Action != policy.Dunno {
		return v
	}
	switch c.Req.State {
	case policy.StateRcpt, policy.StateData:
	default:
		return v
	}
	q, _ := c.Txn.Get(headersKey).([]string)
	if len(q) == 0 {
		for _, h := range o.headerers {
			if text, ok := h.Header(ctx, c); ok {
				return prepend(v, text)
			}
		}
		return v
	}
	var text string
	c.Txn.Update(headersKey, func(old any) any {
		q, _ := old.([]string)
		if len(q) == 0 {
			return q
		}
		text = q[0]
		return q[1:]
	})
	if text == "" {
		return v
	}
	return prepend(v, text)
}

func prepend(v policy.Verdict, text string) policy.Verdict {
	v.Action, v.Text, v.Enhanced = policy.Prepend, text, ""
	if v.Check == "" {
		v.Check, v.Reason = "engine", "queued_header"
	}
	return v
}
