package engine

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tempfail/tempfail/internal/facts"
	"github.com/tempfail/tempfail/internal/logfmt"
	"github.com/tempfail/tempfail/internal/policy"
)

// Options configure an Engine. Checks, Timeout and OnError can be replaced
// at run time with Reload.
type Options struct {
	Checks []Check
	// Timeout bounds one request, all checks included. It must stay well
	// inside the MTA's own policy timeout (Postfix: smtpd_policy_service_timeout,
	// 100s) so that we, not Postfix, decide what happens on overrun.
	Timeout time.Duration
	// OnError is answered for a store error, deadline overrun or panic.
	// The default, DUNNO, lets the rest of the MTA's restrictions decide:
	// internal trouble must never turn into a mail outage.
	OnError policy.Verdict
	Logger  *slog.Logger
	Metrics *Metrics
	// Now is the clock; nil means time.Now. Tests use a fake.
	Now func() time.Time
	// Facts computes the DNS facts (reverse DNS, sender domain, SPF,
	// DNSBL, risk) checks ask for through Call.Facts.DNS; nil: no DNS,
	// every DNS fact is TempFail.
	Facts *facts.Source

	headerers []Headerer // the Checks that implement Headerer, in order
}

// DefaultTimeout is the per-request deadline when none is configured.
const DefaultTimeout = 5 * time.Second

// Engine answers policy requests. It is safe for concurrent use.
type Engine struct {
	opts atomic.Pointer[Options]
	txns *txnTable
}

// New returns an engine running opts.Checks in order.
func New(opts Options) *Engine {
	e := &Engine{txns: newTxnTable(10*time.Minute, 1<<18)}
	e.Reload(opts)
	return e
}

// Reload swaps checks and settings without disturbing requests in flight:
// a request runs to the end with the chain it started with.
func (e *Engine) Reload(opts Options) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(nil)
	}
	opts.headerers = nil
	for _, c := range opts.Checks {
		if h, ok := c.(Headerer); ok {
			opts.headerers = append(opts.headerers, h)
		}
	}
	e.opts.Store(&opts)
}

// Transactions reports how many transactions are being tracked.
func (e *Engine) Transactions() int { return e.txns.len() }

// callState holds what one request's Call points to.
type callState struct {
	Call
	facts Facts
	txn   Txn
}

var callPool = sync.Pool{New: func() any { return new(callState) }}

type outcome struct {
	v   policy.Verdict
	err error
	// by names the check that failed when err is set, else the last
	// check that ran.
	by   string
	kind string // "error" or "panic"
	// next is the index of the first check that did not run.
	next int
}

// Decide runs the chain for one request.
//
// The chain runs on the caller's goroutine: a goroutine hop per request
// would cost more than greylisting itself. The deadline is enforced at
// every check boundary and on return, and every check that waits (store,
// DNS) waits on ctx, so a request answers within the timeout. A check that
// comes back late has its answer replaced by OnError.
func (e *Engine) Decide(ctx context.Context, req *policy.Request) policy.Verdict {
	o := e.opts.Load()
	start := o.Now()
	dctx := withDeadline(ctx, time.Now().Add(o.Timeout))
	defer dctx.cancel()

	// The Call, its Facts and its Txn handle in one object, reused: the
	// chain runs on this goroutine and nothing keeps a Call after Decide
	// returns (a Verdict holds only strings).
	cs := callPool.Get().(*callState)
	defer func() { *cs = callState{}; callPool.Put(cs) }()
	cs.Call = Call{Req: req, Now: start, Log: o.Logger, Notes: notesFrom(ctx)}
	c := &cs.Call
	c.Facts = &cs.facts
	// Trust is carried through the transaction only for what reads it:
	// telling new clients, and an authenticated client is never new, so
	// its requests skip the transaction table here.
	carry := !req.Authenticated()
	carried := false
	if req.Instance != "" {
		cs.txn = Txn{table: e.txns, id: req.Instance, now: start}
		c.Txn = &cs.txn
		if carry {
			carried = carryTrust(c)
		}
	}
	if c.Txn != nil {
		c.Facts.DNS.Init(o.Facts, req, c.Txn)
	} else {
		c.Facts.DNS.Init(o.Facts, req, nil)
	}
	out := e.run(dctx, o, c)
	if out.err == nil {
		out.v = withHeader(dctx, o, c, out.v)
	}
	if c.Notes != nil {
		e.explain(dctx, o, c, out.next)
		c.Facts.DNS.Note(dctx, c.Notes.Add)
	}
	if carry && !carried && c.Facts.Trusted && c.Txn != nil && !req.DryRun && req.State != policy.StateEndOfMessage {
		rememberTrust(c)
	}
	if out.err == nil {
		if err := dctx.Err(); err != nil {
			out = outcome{err: err, kind: "deadline", by: out.by}
		}
	}
	v := out.v
	if out.err != nil {
		if out.by == "" {
			out.by = "engine"
		}
		v = o.OnError
		v.Check = out.by
		v.Reason = "internal_" + out.kind
		o.Metrics.Errors.WithLabelValues(out.by, out.kind).Inc()
		o.Logger.LogAttrs(ctx, slog.LevelError, "check failed; answering on_error",
			slog.String("check", out.by), slog.String("kind", out.kind),
			slog.String("error", out.err.Error()), slog.String("instance", req.Instance),
			slog.String("client", req.ClientAddress), slog.String("action", v.Line()))
	}
	if req.State == policy.StateEndOfMessage && req.Instance != "" {
		e.txns.drop(req.Instance)
	}
	d := o.Now().Sub(start)
	o.Metrics.observe(v, d)
	e.logDecision(ctx, o, req, v, d)
	return v
}

// run executes the chain; it recovers a panicking check.
func (e *Engine) run(ctx context.Context, o *Options, c *Call) (out outcome) {
	var current string
	i := 0
	defer func() {
		if r := recover(); r != nil {
			out = outcome{err: fmt.Errorf("panic: %v\n%s", r, debug.Stack()), by: current, kind: "panic", next: i + 1}
		}
	}()
	var soft policy.Verdict // first non-final answer with something to say
	for ; i < len(o.Checks); i++ {
		ch := o.Checks[i]
		if err := ctx.Err(); err != nil {
			return outcome{err: err, by: current, kind: "deadline", next: i}
		}
		current = ch.Name()
		v, err := ch.Check(ctx, c)
		if err != nil && ctx.Err() != nil {
			return outcome{err: fmt.Errorf("%s: %w", current, err), by: current, kind: "deadline", next: i + 1}
		}
		if err != nil {
			return outcome{err: fmt.Errorf("%s: %w", current, err), by: current, kind: "error", next: i + 1}
		}
		if v.Check == "" && (v.Action != policy.Dunno || v.Reason != "") {
			v.Check = current
		}
		if final(v.Action) {
			return outcome{v: v, by: current, next: i + 1}
		}
		if soft.Check == "" || (soft.Action == policy.Dunno && v.Action != policy.Dunno) {
			if v.Check != "" {
				soft = v
			}
		}
	}
	return outcome{v: soft, by: current, next: i}
}

func (e *Engine) logDecision(ctx context.Context, o *Options, r *policy.Request, v policy.Verdict, d time.Duration) {
	level := slog.LevelInfo
	if v.Action == policy.Dunno && v.Check == "" {
		// Nothing had an opinion (e.g. a CONNECT request): keep the info
		// log to decisions that a person may want to look up.
		level = slog.LevelDebug
	}
	// The handler directly, not Logger.LogAttrs: the decision line needs
	// no source position, and capturing one costs more than the line.
	h := o.Logger.Handler()
	if !h.Enabled(ctx, level) {
		return
	}
	var buf [16]slog.Attr // on the stack: the line allocates nothing here
	attrs := append(buf[:0],
		slog.String("state", string(r.State)),
		slog.String("queue_id", r.QueueID),
		slog.String("instance", r.Instance),
		slog.String("client", r.ClientAddress),
		slog.String("client_name", r.ClientName),
		slog.String("helo", r.HeloName),
		slog.String("sender", r.Sender),
		slog.String("recipient", r.Recipient),
	)
	if r.SASLUsername != "" {
		attrs = append(attrs, slog.String("sasl_username", r.SASLUsername))
	}
	if r.DryRun {
		attrs = append(attrs, slog.Bool("dry_run", true))
	}
	attrs = append(attrs,
		slog.String("check", v.Check),
		slog.String("reason", v.Reason),
		slog.String("action", v.Line()),
		slog.Duration("took", d))
	// A log write error must not change the answer. The concrete type,
	// not an interface: through an interface call the attribute array
	// would escape to the heap, 640 bytes per request.
	if fh, ok := h.(*logfmt.Handler); ok {
		_ = fh.HandleAttrs(ctx, o.Now(), level, "decision", attrs)
		return
	}
	rec := slog.NewRecord(o.Now(), level, "decision", 0)
	rec.AddAttrs(attrs...)
	_ = h.Handle(ctx, rec)
}

// actionLabel is the metrics label for an action: the keyword, or the
// basic code for an explicit reply.
func actionLabel(v policy.Verdict) string {
	if v.Action == policy.Reply {
		return strconv.Itoa(v.Code)
	}
	return v.Action.String()
}
