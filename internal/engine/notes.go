package engine

import (
	"context"
	"sync"

	"github.com/tempfail/tempfail/internal/policy"
)

// Notes collects attributes that checks attach to one request for people,
// not for the MTA: `tempfail query` asks for them (the Postfix front-end's
// x_tempfail_verbose=yes) and prints them, e.g. one "limit" note per rate
// limit with its key and remaining budget, which the Postfix front-end
// sends as x_tempfail_limit=. A request that did not ask has no Notes
// (Call.Notes is nil) and pays nothing.
type Notes struct {
	mu    sync.Mutex
	attrs []policy.Attr
}

type notesKey struct{}

// WithNotes returns a context that asks Engine.Decide to collect notes, and
// the Notes they are collected in.
func WithNotes(ctx context.Context) (context.Context, *Notes) {
	n := &Notes{}
	return context.WithValue(ctx, notesKey{}, n), n
}

func notesFrom(ctx context.Context) *Notes {
	n, _ := ctx.Value(notesKey{}).(*Notes)
	return n
}

// Add appends one name=value note. A nil Notes ignores it.
func (n *Notes) Add(name, value string) {
	if n == nil {
		return
	}
	n.mu.Lock()
	n.attrs = append(n.attrs, policy.Attr{Name: name, Value: value})
	n.mu.Unlock()
}

// Attrs returns the notes in the order they were added.
func (n *Notes) Attrs() []policy.Attr {
	if n == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]policy.Attr(nil), n.attrs...)
}

// Explainer is an optional interface of a Check. When a request asks for
// notes and the chain ended before the check ran (an earlier check
// deferred, say), the engine calls Explain so the check can still note
// what it would have done. Explain must not change any state (treat the
// request as a dry run) and its trouble never changes the verdict.
type Explainer interface {
	Explain(ctx context.Context, c *Call)
}

// explain runs Explain on the checks after the one that ended the chain.
func (e *Engine) explain(ctx context.Context, o *Options, c *Call, from int) {
	for i := from; i < len(o.Checks); i++ {
		x, ok := o.Checks[i].(Explainer)
		if !ok || ctx.Err() != nil {
			continue
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					c.Notes.Add("note", o.Checks[i].Name()+": explain failed")
				}
			}()
			x.Explain(ctx, c)
		}()
	}
}
