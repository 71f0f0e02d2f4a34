package ratelimit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/store/memstore"
)

// A new client may send 2 messages an hour: the third, three minutes after
// the first two, is deferred with the wait in the reply.
func Example() {
	rate, err := ratelimit.ParseRate("2/h")
	if err != nil {
		panic(err)
	}
	limit, err := ratelimit.NewLimit(rate, ratelimit.DefaultBurst(rate))
	if err != nil {
		panic(err)
	}
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	// The store decides expiry by the same clock as the limiter.
	lm := ratelimit.New(memstore.NewWithClock(clock), ratelimit.Options{Now: clock})
	key := ratelimit.Key("new_clients", "192.0.2.7")
	for i := 1; i <= 3; i++ {
		r, err := lm.Allow(context.Background(), key, limit, 1)
		if err != nil {
			panic(err) // the check answers its on_error action
		}
		if r.Allowed {
			fmt.Printf("message %d: accepted, %d left\n", i, r.Remaining)
		} else {
			fmt.Printf("message %d: 450 4.7.1 Rate limit for new clients exceeded (%s), try again in %s\n",
				i, rate, ratelimit.FormatWait(r.RetryAfter))
		}
		now = now.Add(90 * time.Second)
	}
	r, _ := lm.Peek(context.Background(), key, limit, 0)
	fmt.Printf("budget now: %d of %d, full again in %s\n", r.Remaining, limit.Burst(), ratelimit.FormatWait(r.ResetAfter))
	// Output:
	// message 1: accepted, 1 left
	// message 2: accepted, 0 left
	// message 3: 450 4.7.1 Rate limit for new clients exceeded (2/h), try again in 27 minutes
	// budget now: 0 of 2, full again in 56 minutes
}

func ExampleFormatWait() {
	for _, d := range []time.Duration{
		0, 45 * time.Second, 27 * time.Minute, 27*time.Minute + 3*time.Second, 2 * time.Hour, 65 * time.Minute, 50 * time.Hour,
	} {
		fmt.Println(ratelimit.FormatWait(d))
	}
	// Output:
	// 1 second
	// 45 seconds
	// 27 minutes
	// 28 minutes
	// 2 hours
	// 1 hour 5 minutes
	// 2 days 2 hours
}
