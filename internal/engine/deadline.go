package engine

import (
	"context"
	"sync"
	"time"
)

// deadlineCtx is a context with a deadline that costs nothing until a check
// actually waits on Done: most requests (greylisting on the embedded store)
// only ever ask Err or Deadline, and a timer per request would be the most
// expensive thing the engine does. Done arms a timer on first use.
type deadlineCtx struct {
	context.Context
	deadline time.Time

	once  sync.Once
	done  chan struct{}
	timer *time.Timer

	mu       sync.Mutex
	canceled bool
}

func withDeadline(parent context.Context, d time.Time) *deadlineCtx {
	return &deadlineCtx{Context: parent, deadline: d}
}

func (c *deadlineCtx) Deadline() (time.Time, bool) { return c.deadline, true }

func (c *deadlineCtx) Done() <-chan struct{} {
	c.once.Do(func() {
		c.done = make(chan struct{})
		wait := time.Until(c.deadline)
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.canceled || wait <= 0 {
			close(c.done)
			return
		}
		c.timer = time.AfterFunc(wait, func() { close(c.done) })
		if pd := c.Context.Done(); pd != nil {
			go func() {
				select {
				case <-pd:
					c.cancel()
				case <-c.done:
				}
			}()
		}
	})
	return c.done
}

func (c *deadlineCtx) Err() error {
	if err := c.Context.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	canceled := c.canceled
	c.mu.Unlock()
	if canceled {
		return context.Canceled
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

// cancel releases the timer, if one was armed.
func (c *deadlineCtx) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.canceled {
		return
	}
	c.canceled = true
	if c.timer != nil && c.timer.Stop() {
		close(c.done)
	}
}
