package facts

import (
	"context"
	"sync"
	"time"
)

// Reserve is the time kept back from the request's deadline for the checks
// that run after the DNS ones (store reads and writes): a lookup started by
// facts gives up this long before the deadline, or after three quarters of
// the time left, whichever comes first.
const Reserve = time.Second

// budget returns ctx with a deadline that leaves the reserve, without
// arming a timer until something waits on Done (most lookups are answered
// from the cache and never wait).
func budget(ctx context.Context) context.Context {
	dl, ok := ctx.Deadline()
	if !ok {
		return ctx
	}
	left := time.Until(dl)
	keep := min(Reserve, left/4)
	return &budgetCtx{Context: ctx, deadline: dl.Add(-keep)}
}

// budget is budget(ctx), made once for the ctx of the request.
func (s *Set) budget(ctx context.Context) context.Context {
	s.budMu.Lock()
	defer s.budMu.Unlock()
	if s.budOf != ctx || s.budCtx == nil {
		s.budOf, s.budCtx = ctx, budget(ctx)
	}
	return s.budCtx
}

type budgetCtx struct {
	context.Context
	deadline time.Time

	once  sync.Once
	done  chan struct{}
	timer *time.Timer
}

func (c *budgetCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *budgetCtx) Done() <-chan struct{} {
	c.once.Do(func() {
		c.done = make(chan struct{})
		parent := c.Context.Done()
		wait := time.Until(c.deadline)
		if wait <= 0 {
			close(c.done)
			return
		}
		c.timer = time.NewTimer(wait)
		go func() {
			defer c.timer.Stop()
			select {
			case <-c.timer.C:
			case <-parent:
			}
			close(c.done)
		}()
	})
	return c.done
}

func (c *budgetCtx) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}
