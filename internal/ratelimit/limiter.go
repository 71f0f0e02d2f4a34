package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/tempfail/tempfail/internal/store"
)

// ErrContention is returned (wrapped) when a key changed under every one of
// Options.MaxTries read-and-swap attempts. Callers treat it like a store
// failure (the check's on_error answer).
var ErrContention = errors.New("ratelimit: key too contended")

// ErrNegativeCost is returned (wrapped) for a cost below 0.
var ErrNegativeCost = errors.New("ratelimit: negative cost")

// DefaultSlack is how long a key outlives its TAT by default. Once TAT has
// passed, a key holds no information (a missing key means an empty bucket),
// so the slack only covers stores that keep expiry in milliseconds and
// small clock differences between MX hosts sharing a store.
const DefaultSlack = time.Second

// DefaultMaxTries is the default bound on read-and-swap attempts.
const DefaultMaxTries = 16

// Options configures New. The zero value is usable.
type Options struct {
	// Now is the clock. Default time.Now; tests set a fake one. Keys
	// expire by the store's clock at TAT + Slack, so a fake clock behind
	// the store's loses state early: give the store the same clock, or
	// keep the fake one at or ahead of it.
	Now func() time.Time
	// Slack: a key expires at its TAT + Slack. Default DefaultSlack.
	Slack time.Duration
	// MaxTries bounds the Get + CompareAndSwap attempts of one request
	// before it fails with ErrContention. Default DefaultMaxTries.
	MaxTries int
}

// Atomic is an optional interface of a store.Store that can run one GCRA
// step itself, atomically and in one round trip (Redis: a Lua script or
// function doing Get, Decide and Set). When the store given to New
// implements it, the Limiter calls it for every Allow and Peek instead of
// its Get + CompareAndSwap loop; a store wrapper (metrics, logging) must
// forward it or the Limiter falls back to that loop.
//
// An implementation must behave exactly like Decide on the key's state:
// read the TAT (missing or expired: 0), compute Decide(tat, now, cost,
// limit), and unless c.Peek, write Result.TAT when it differs from the
// state read, with the key expiring at Result.TAT + c.Slack. For c.Refund
// it writes RefundTAT(tat, cost, limit) instead (when the key exists and
// the TAT changes), with the same expiry rule, and returns Decide on the
// new TAT as a Peek would. The value
// format under the key is the implementation's own, since only it reads
// the key (the Get + CompareAndSwap path stores 8 bytes, big-endian). The
// conformance suite in package ratelimittest holds it to this through the
// Limiter.
type Atomic interface {
	GCRA(ctx context.Context, c AtomicCall) (Result, error)
}

// AtomicCall is one GCRA step for Atomic.GCRA. Limit.Interval,
// Limit.Tolerance and Limit.Burst give its parameters as integers.
type AtomicCall struct {
	Key   string
	Now   time.Time
	Cost  int64 // >= 0
	Limit Limit
	// Peek: decide, but never write.
	Peek bool
	// Refund: give back Cost units charged earlier (see Limiter.AllowAll).
	Refund bool
	// Slack: the key expires at the new TAT + Slack.
	Slack time.Duration
}

// Limiter applies GCRA limits to keys in a store.Store. It is safe for
// concurrent use, also by several processes or hosts sharing the store.
type Limiter struct {
	st     store.Store
	atomic Atomic
	upd    store.Updater
	o      Options
}

// New returns a Limiter over st.
func New(st store.Store, o Options) *Limiter {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Slack <= 0 {
		o.Slack = DefaultSlack
	}
	if o.MaxTries <= 0 {
		o.MaxTries = DefaultMaxTries
	}
	lm := &Limiter{st: st, o: o}
	lm.atomic, _ = st.(Atomic)
	if lm.atomic == nil {
		lm.upd, _ = st.(store.Updater)
	}
	return lm
}

// Allow charges cost to key under l and returns the decision. A denied
// request (Result.Allowed false) is not charged. A store failure or
// ErrContention comes back as an error with a zero Result.
func (lm *Limiter) Allow(ctx context.Context, key string, l Limit, cost int64) (Result, error) {
	return lm.step(ctx, key, l, cost, false)
}

// Peek decides a request of cost against key without charging or writing
// anything: with cost 0 it reports Remaining and ResetAfter, for `tempfail
// query`.
func (lm *Limiter) Peek(ctx context.Context, key string, l Limit, cost int64) (Result, error) {
	return lm.step(ctx, key, l, cost, true)
}

func (lm *Limiter) step(ctx context.Context, key string, l Limit, cost int64, peek bool) (Result, error) {
	return lm.stepAt(ctx, key, l, cost, peek, time.Time{})
}

// stepAt is step at the instant now (the zero Time: read the clock), so
// that the charges of one AllowAll see one instant and read the clock once.
func (lm *Limiter) stepAt(ctx context.Context, key string, l Limit, cost int64, peek bool, now time.Time) (Result, error) {
	if cost < 0 {
		return Result{}, fmt.Errorf("%w: %d for %q", ErrNegativeCost, cost, key)
	}
	if now.IsZero() {
		now = lm.o.Now()
	}
	if lm.atomic != nil {
		r, err := lm.atomic.GCRA(ctx, AtomicCall{Key: key, Now: now, Cost: cost, Limit: l, Peek: peek, Slack: lm.o.Slack})
		if err != nil {
			return Result{}, fmt.Errorf("ratelimit: %q: %w", key, err)
		}
		return r, nil
	}
	if lm.upd != nil && !peek {
		// One locked read-modify-write; a Peek reads with Get, which the
		// embedded store answers without its write locks.
		var r Result
		err := lm.upd.Update(ctx, key, func(old []byte, _ bool) ([]byte, time.Time, bool) {
			tat, _ := DecodeTAT(old)
			r = Decide(tat, now.UnixNano(), cost, l)
			if r.TAT == tat {
				return nil, time.Time{}, false
			}
			return EncodeTAT(r.TAT), time.Unix(0, r.TAT).Add(lm.o.Slack), true
		})
		if err != nil {
			return Result{}, fmt.Errorf("ratelimit: %q: %w", key, err)
		}
		return r, nil
	}
	for try := 0; try < lm.o.MaxTries; try++ {
		old, _, err := lm.st.Get(ctx, key)
		var tat int64
		switch {
		case errors.Is(err, store.ErrNotFound):
			old = nil
		case err != nil:
			return Result{}, fmt.Errorf("ratelimit: read %q: %w", key, err)
		default:
			// A value that does not decode starts over and is replaced.
			tat, _ = DecodeTAT(old)
		}
		r := Decide(tat, now.UnixNano(), cost, l)
		if peek || r.TAT == tat {
			// Nothing to write: a denial, a cost of 0, or a Peek.
			return r, nil
		}
		ok, err := lm.st.CompareAndSwap(ctx, key, old, EncodeTAT(r.TAT), time.Unix(0, r.TAT).Add(lm.o.Slack))
		if err != nil {
			return Result{}, fmt.Errorf("ratelimit: write %q: %w", key, err)
		}
		if ok {
			return r, nil
		}
	}
	return Result{}, fmt.Errorf("%w: %q changed under %d attempts", ErrContention, key, lm.o.MaxTries)
}

// tatLen is the size of a stored TAT.
const tatLen = 8

// EncodeTAT is the stored form of a TAT: 8 bytes, big-endian.
func EncodeTAT(tat int64) []byte {
	return binary.BigEndian.AppendUint64(make([]byte, 0, tatLen), uint64(tat))
}

// DecodeTAT reads EncodeTAT's form.
func DecodeTAT(b []byte) (int64, bool) {
	if len(b) != tatLen {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b)), true
}

// Store keys are short, because every active bucket is one key in the
// embedded store and the key is most of its size there: "r", a 4-byte id
// of the limit (the first bytes of SHA-256 of its name), then the subject
// as it is when shorter than 16 bytes (an IPv4 address, a /24, most
// domains and user names), else the first 16 bytes of its SHA-256. A
// subject kept as it is is never 16 bytes long, so it cannot equal a
// hashed one; SHA-256 keeps anyone who can choose a sender address from
// steering it into someone else's bucket. Subjects appear in replies, logs
// and `tempfail query` as they are; only the store sees the short form.
const (
	limitIDLen  = 4
	subjectHash = 16
)

// KeySpace is the key prefix of one limit's buckets; computing it once per
// limit keeps SHA-256 of the name off the request path.
type KeySpace string

// NewKeySpace returns the key prefix of the limit named limit.
func NewKeySpace(limit string) KeySpace {
	sum := sha256.Sum256([]byte(limit))
	return KeySpace("r" + string(sum[:limitIDLen]))
}

// Key is the store key of the bucket of subject (a client address, a
// sender, a SASL user, a combination joined by the caller).
func (ks KeySpace) Key(subject string) string {
	if len(subject) < subjectHash {
		return string(ks) + subject
	}
	sum := sha256.Sum256([]byte(subject))
	return string(ks) + string(sum[:subjectHash])
}

// AppendKey appends Key(subject) to dst, so that a caller with several
// keys to build can make them in one buffer and one string.
func (ks KeySpace) AppendKey(dst []byte, subject string) []byte {
	dst = append(dst, ks...)
	if len(subject) < subjectHash {
		return append(dst, subject...)
	}
	sum := sha256.Sum256([]byte(subject))
	return append(dst, sum[:subjectHash]...)
}

// SameID reports whether two different limit names would share their
// buckets (their 4-byte ids collide, about one chance in 4 billion per
// pair): the config refuses that.
func SameID(a, b string) bool { return a != b && NewKeySpace(a) == NewKeySpace(b) }

// Key is NewKeySpace(limit).Key(subject).
func Key(limit, subject string) string { return NewKeySpace(limit).Key(subject) }
