// Package engine runs every request through the fixed-order chain of checks
// and turns internal trouble into a safe answer.
//
// Request -> Call{Req, Facts, Txn} -> check 1, check 2, ... -> Verdict.
//
// The first check that answers with a final action (defer, reject, hold, ...)
// ends the chain. Non-final answers (DUNNO with a reason, PREPEND, WARN,
// INFO) are remembered and the chain goes on; the first of them is returned
// when nobody decides, so "exempt: authenticated" or the X-Greylist header
// still reach the MTA and the log.
//
// A store error, a deadline overrun or a panic in a check never becomes a
// mail outage: the engine answers its OnError verdict (DUNNO by default),
// counts it and logs it.
package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/tempfail/tempfail/internal/policy"
)

// Check is one policy check. Every check package exports a type that
// satisfies it; the order is fixed in one place (package checks).
type Check interface {
	// Name is the check's stable name, used in logs, metrics and verdicts.
	Name() string
	// Check looks at one request. It returns a verdict (Action Dunno with an
	// empty Reason means "no opinion") or an error for internal trouble,
	// which the engine turns into its OnError verdict.
	Check(ctx context.Context, c *Call) (policy.Verdict, error)
}

// Headerer is implemented by a check that wants a header on the accepted
// message without deciding anything (SPF's Received-SPF). After the chain,
// when the answer of a RCPT or DATA request would be DUNNO, the engine
// asks the checks that implement it, in chain order, and answers the first
// header offered as PREPEND (Postfix applies one action per answer). The
// check keeps track of what it already gave in the transaction state.
// Nothing is asked, built or stored for answers that are not DUNNO, so a
// deferred request costs no header and no transaction state.
type Headerer interface {
	Header(ctx context.Context, c *Call) (text string, ok bool)
}

// Call is everything a check sees for one request.
type Call struct {
	Req *policy.Request
	// Facts are computed lazily, at most once per request, and shared by
	// every check.
	Facts *Facts
	// Txn is the state of this SMTP transaction (Postfix instance), shared
	// by every request of the transaction; nil when the MTA sent no instance.
	Txn *Txn
	// Now is the request's clock reading; checks use it instead of
	// time.Now so one request sees one instant.
	Now time.Time
	// Log is the engine's logger, for checks with events of their own to
	// report (a user over quota at warn level); never nil.
	Log *slog.Logger
	// Notes is non-nil when the request asked for notes for people
	// (`tempfail query`); checks add what they want shown there.
	Notes *Notes
}

// final reports whether an action ends the chain.
func final(a policy.Action) bool {
	switch a {
	case policy.Dunno, policy.Prepend, policy.Warn, policy.Info:
		return false
	}
	return true
}
