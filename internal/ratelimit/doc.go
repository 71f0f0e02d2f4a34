// Package ratelimit is the rate-limit algorithm of tempfail: rate specs
// ("2/h", "100/d"), the generic cell rate algorithm (GCRA) as a pure
// function, and a Limiter that keeps GCRA state in a store.Store.
//
// # GCRA in five lines
//
// A limit of N per period allows one unit of cost every T = period/N (the
// emission interval). The only state per key is TAT, the theoretical
// arrival time: when the key's bucket will be empty again if nothing more
// arrives. A request of cost n at time now is allowed if
// max(TAT, now) + n*T - now <= B*T, and then TAT becomes max(TAT, now) + n*T;
// a denied request leaves TAT alone. This is a leaky bucket of capacity
// B*T nanoseconds draining one nanosecond per nanosecond, stored as the
// instant it will be empty.
//
// It was chosen because the state is one int64 per key (an O(1), 8-byte
// value that expires by itself once TAT has passed), the arithmetic is
// exact integers with nothing to drift, and there is no window to reset and
// so no background job: a key that stops sending simply expires.
//
// # Use
//
// ParseRate reads "2/h"; NewLimit(rate, DefaultBurst(rate)) makes a Limit;
// Limiter.Allow(ctx, Key(limitName, subject), limit, cost) charges a request
// (cost 1 per message, recipient_count per recipients, size per bytes) and
// Limiter.Peek reports the budget without charging, for `tempfail query`.
// A denial's Result.RetryAfter goes into the reply through FormatWait: "450
// 4.7.1 Rate limit for new clients exceeded (2/h), try again in 27
// minutes". An error from the Limiter (store failure, ErrContention) is the
// check's on_error case. AllowAll charges a request to several limits all
// or nothing. A store that implements Atomic (Redis, later) runs each step
// in one round trip, and one that implements store.Updater (the embedded
// and in-memory stores) in one locked read-modify-write; other stores take
// a Get + CompareAndSwap loop. Package ratelimittest is the conformance
// suite every store runs through the Limiter.
//
// Sources: ITU-T Recommendation I.371, "Traffic control and congestion
// control in B-ISDN", which defines GCRA(T, tau) and its virtual
// scheduling form used here; the ATM Forum Traffic Management
// Specification 4.0; Brandur Leach, "Rate Limiting, Cells, and GCRA"
// (brandur.org/rate-limiting), and the redis-cell and throttled
// (github.com/throttled/throttled) libraries, whose results (remaining,
// retry after, reset after) Result mirrors.
//
// # Burst
//
// Burst B is the number of cost units that may arrive at the same instant
// after a long idle time: after idling, B requests of cost 1 pass at once
// and the next one waits T. In I.371 terms the increment is T and the
// tolerance is tau = (B-1)*T: a request of cost 1 conforms if
// TAT <= now + tau, and one of cost n if max(TAT, now) + (n-1)*T <= now + tau.
// A request whose cost exceeds B can never pass, however long it waits;
// Decide says so (Result.Never) instead of giving a retry time that would
// lie.
//
// For every window of length W, a closed interval of time, the cost
// allowed inside it is at most N*W/period + B (the tests check this
// property against random sequences).
//
// # Exactness
//
// Times are Unix nanoseconds in int64 and T is period/N rounded up to a
// whole nanosecond. For every rate whose period is a multiple of N
// nanoseconds (2/h, 100/d, 1000/d, 10/m, ...) the limiter is exact; for the
// others (7/h) each unit costs less than a nanosecond more than its share,
// so the limiter errs, by nanoseconds, on the strict side. Limits whose
// full burst would take more than about 18 years to drain are rejected,
// which keeps every sum inside int64.
//
// # Clocks
//
// A stored TAT more than B*T ahead of now cannot come from a clock that only
// moves forward: the clock has stepped back, or another MX host sharing the
// store runs ahead, or the value is corrupt. Decide then treats the bucket
// as full as of now, as if the last request had just happened. Elapsed time
// cannot be negative and a bucket cannot be fuller than full, so this is
// never more generous than the true state, and it keeps a clock step or a
// far-future value from locking the key out for the length of the step.
// (Between hosts whose clocks differ by s, each such correction can give
// away at most s of budget, s/T units: keep MX clocks in sync.)
package ratelimit
