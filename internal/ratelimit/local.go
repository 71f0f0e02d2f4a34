package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tempfail/tempfail/internal/store"
)

// Local keeps GCRA state in process memory and writes it behind to a
// store: for a store this process owns alone (the embedded one). Every
// allowed request moves its bucket's TAT, so exact GCRA writes once per
// limit per request; through the embedded store each write is a locked
// record in its overlay, a log commit and a merge into the B+tree, several
// microseconds. Here a charge is a map update under one of 64 locks, and
// each bucket that changed is written to the store once per
// LocalOptions.FlushEvery however many requests it saw, so a busy key
// costs the store one write a second instead of thousands.
//
// Local implements Atomic, so a Limiter over it runs each step here, and
// store.Store for the same keys: Get answers from memory for a bucket it
// holds, and a Put, Delete, CompareAndSwap or Incr of a key drops the
// bucket from memory first, so the store's state wins (except against a
// flush writing that very key at that moment: rate-limit keys are meant to
// be written through Local only). Keys it has not
// seen are read from the store once (the embedded store answers a key it
// never had from its Bloom filter).
//
// What a crash costs: the charges of the last FlushEvery, plus the store's
// own write-behind window. A restarted server then lets a key send that
// much more than its limit, once. Several processes or hosts sharing a
// store must not use Local: each would count alone (Redis runs GCRA in one
// round trip instead, through Atomic).
//
// Memory: a bucket is held while its TAT + slack is ahead (then it holds
// nothing an empty bucket does not), about 50 bytes with its key; a sweep
// every few FlushEvery drops the expired ones. At LocalOptions.MaxKeys
// buckets, new keys go to the store directly (each step one store
// operation, as without Local) until sweeps make room.
type Local struct {
	st     store.Store
	direct *Limiter // for keys beyond MaxKeys
	o      LocalOptions
	seed   maphash.Seed
	shards [localShards]localShard
	stop   chan struct{}
	done   chan struct{}
	closed atomic.Bool
}

// localShards spreads the buckets over locks so that concurrent requests
// for different keys rarely wait for each other.
const localShards = 64

type localShard struct {
	mu    sync.Mutex
	m     map[bucketKey]int64 // packed localBucket
	dirty []bucketKey         // keys whose TAT changed since the last flush
	_     [24]byte            // keeps neighbouring shards' locks off one cache line
}

// bucketKey holds a key of up to maxLocalKey bytes in place, its length in
// the last byte: a map of fixed-size keys and int64 values has no pointers
// for the garbage collector to scan and no string allocation per bucket,
// which halves the memory of a bucket. Rate-limit keys (KeySpace.Key) are
// at most 21 bytes; a longer key is charged in the store directly.
type bucketKey [maxLocalKey + 1]byte

const maxLocalKey = 23

func makeBucketKey(s string) bucketKey {
	var k bucketKey
	copy(k[:maxLocalKey], s)
	k[maxLocalKey] = byte(len(s))
	return k
}

func (k *bucketKey) String() string { return string(k[:k[maxLocalKey]]) }

type localBucket struct {
	tat   int64 // 0: empty (never charged, or read missing from the store)
	dirty bool
}

// TATs are positive Unix nanoseconds, so the map keeps a changed bucket's
// TAT negated.
func pack(b localBucket) int64 {
	if b.dirty {
		return -b.tat
	}
	return b.tat
}

func unpack(v int64) localBucket {
	if v < 0 {
		return localBucket{tat: -v, dirty: true}
	}
	return localBucket{tat: v}
}

// LocalOptions configures NewLocal. The zero value is usable.
type LocalOptions struct {
	// Now is the clock; give the Limiter the same one. Default time.Now.
	Now func() time.Time
	// Slack: a key expires at its TAT + Slack, as in Options.
	Slack time.Duration
	// FlushEvery is how often changed buckets are written to the store and
	// expired ones dropped from memory. Default 1s.
	FlushEvery time.Duration
	// MaxKeys bounds the buckets held in memory. Default 2 000 000.
	MaxKeys int
	// Logger receives write failures. Default slog.Default().
	Logger *slog.Logger
}

// NewLocal returns a Local over st and starts its flusher; Close stops it.
// Local does not own st: Close writes the buckets out and leaves st open.
func NewLocal(st store.Store, o LocalOptions) *Local {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Slack <= 0 {
		o.Slack = DefaultSlack
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = time.Second
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 2_000_000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	l := &Local{st: st, o: o, seed: maphash.MakeSeed(), stop: make(chan struct{}), done: make(chan struct{}),
		direct: New(st, Options{Now: o.Now, Slack: o.Slack})}
	for i := range l.shards {
		l.shards[i].m = make(map[bucketKey]int64)
	}
	go l.run()
	return l
}

func (l *Local) shard(key string) *localShard {
	return &l.shards[maphash.String(l.seed, key)%localShards]
}

// live is the TAT a store would hold for b now: 0 once TAT + slack has
// passed, when the store would read the key as missing.
func (l *Local) live(b localBucket, now int64) int64 {
	if b.tat == 0 || b.tat+int64(l.o.Slack) <= now {
		return 0
	}
	return b.tat
}

// GCRA runs one step of the Limiter (Atomic) on the bucket in memory.
func (l *Local) GCRA(ctx context.Context, c AtomicCall) (Result, error) {
	if err := store.CheckKey(c.Key); err != nil {
		return Result{}, err
	}
	if l.isClosed() {
		return Result{}, store.ErrClosed
	}
	if len(c.Key) > maxLocalKey {
		return l.directStep(ctx, c)
	}
	k := makeBucketKey(c.Key)
	sh := l.shard(c.Key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	v, ok := sh.m[k]
	b := unpack(v)
	if !ok {
		if len(sh.m) >= l.o.MaxKeys/localShards {
			return l.directStep(ctx, c)
		}
		tat, err := l.load(ctx, c.Key)
		if err != nil {
			return Result{}, err
		}
		b = localBucket{tat: tat}
	}
	now := c.Now.UnixNano()
	// The TAT as stored, also when it has passed: Decide treats a past
	// TAT like an empty bucket, as a store that has not dropped the key
	// yet would.
	tat := b.tat
	var r Result
	nt := tat
	switch {
	case c.Refund:
		if l.live(b, now) == 0 { // a refund touches only a key that exists
			r = Decide(0, now, c.Cost, c.Limit)
			break
		}
		nt = RefundTAT(tat, c.Cost, c.Limit)
		r = Decide(nt, now, c.Cost, c.Limit)
	default:
		r = Decide(tat, now, c.Cost, c.Limit)
		if !c.Peek {
			nt = r.TAT
		}
	}
	if nt != tat {
		b.tat = nt
		if !b.dirty {
			b.dirty = true
			sh.dirty = append(sh.dirty, k)
		}
	}
	if nt != tat || !ok {
		sh.m[k] = pack(b)
	}
	return r, nil
}

// load reads a bucket the table does not hold from the store.
func (l *Local) load(ctx context.Context, key string) (int64, error) {
	v, _, err := l.st.Get(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("ratelimit: read %q: %w", key, err)
	}
	tat, _ := DecodeTAT(v) // unreadable: a fresh bucket, replaced on the next charge
	return tat, nil
}

// directStep is a step straight on the store, for a key the table has no
// room for.
func (l *Local) directStep(ctx context.Context, c AtomicCall) (Result, error) {
	if c.Refund {
		return l.direct.refund(ctx, Charge{Key: c.Key, Limit: c.Limit, Cost: c.Cost})
	}
	return l.direct.step(ctx, c.Key, c.Limit, c.Cost, c.Peek)
}

func (l *Local) isClosed() bool { return l.closed.Load() }

// run is the flusher: it writes the changed buckets and sweeps the
// expired ones every FlushEvery.
func (l *Local) run() {
	defer close(l.done)
	t := time.NewTicker(l.o.FlushEvery)
	defer t.Stop()
	last := time.Time{}
	for i := 1; ; i++ {
		select {
		case <-l.stop:
			return
		case <-t.C:
			if n, err := l.flush(context.Background(), i%sweepEvery == 0); err != nil && time.Since(last) > 10*time.Second {
				last = time.Now()
				l.o.Logger.Error("rate-limit state: write to the store failed; kept in memory, retrying",
					"buckets", n, "error", err)
			}
		}
	}
}

// sweepEvery: the flusher drops expired buckets every sweepEvery flushes;
// a sweep visits every bucket, a flush only the changed ones.
const sweepEvery = 8

// Flush writes every changed bucket to the store and drops the expired
// ones from memory. It returns how many buckets it could not write (they
// stay changed and are tried again) and the first error.
func (l *Local) Flush(ctx context.Context) (int, error) { return l.flush(ctx, true) }

func (l *Local) flush(ctx context.Context, sweep bool) (int, error) {
	now := l.o.Now().UnixNano()
	failed := 0
	var first error
	var batch []pendingWrite
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		batch = batch[:0]
		for _, k := range sh.dirty {
			v, ok := sh.m[k]
			b := unpack(v)
			if !ok || !b.dirty {
				continue
			}
			tat := l.live(b, now)
			if tat == 0 {
				// Expired before it was written: whatever the store has
				// is older and expired too.
				delete(sh.m, k)
				continue
			}
			batch = append(batch, pendingWrite{k, tat})
			b.dirty = false
			sh.m[k] = pack(b)
		}
		clear(sh.dirty)
		sh.dirty = sh.dirty[:0]
		if cap(sh.dirty) > 1024 {
			sh.dirty = nil // a burst of changed keys does not pin its list
		}
		if sweep {
			for k, v := range sh.m {
				if b := unpack(v); !b.dirty && l.live(b, now) == 0 {
					delete(sh.m, k)
				}
			}
		}
		sh.mu.Unlock()
		// The store is written without the shard's lock: a slow store
		// (one waiting for a merge) never holds up the requests charging
		// these keys. A bucket that could not be written is marked
		// changed again, unless a newer charge already did.
		for _, w := range batch {
			err := l.st.Put(ctx, w.k.String(), EncodeTAT(w.tat), time.Unix(0, w.tat).Add(l.o.Slack))
			if err == nil {
				continue
			}
			failed++
			if first == nil {
				first = fmt.Errorf("ratelimit: write %q: %w", w.k.String(), err)
			}
			sh.mu.Lock()
			if v, ok := sh.m[w.k]; ok {
				if b := unpack(v); !b.dirty {
					b.dirty = true
					sh.m[w.k] = pack(b)
					sh.dirty = append(sh.dirty, w.k)
				}
			}
			sh.mu.Unlock()
		}
	}
	return failed, first
}

// pendingWrite is a changed bucket on its way to the store.
type pendingWrite struct {
	k   bucketKey
	tat int64
}

// Len is the number of buckets held in memory.
func (l *Local) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}

// Close stops the flusher and writes every changed bucket to the store,
// which it leaves open. Steps after Close fail with store.ErrClosed.
func (l *Local) Close() error {
	if l.closed.Swap(true) {
		return nil
	}
	close(l.stop)
	<-l.done
	if n, err := l.Flush(context.Background()); err != nil {
		return fmt.Errorf("ratelimit: close: %d buckets not written: %w", n, err)
	}
	return nil
}

// Get answers from memory for a bucket Local holds, else from the store.
func (l *Local) Get(ctx context.Context, key string) ([]byte, time.Time, error) {
	if err := store.CheckKey(key); err != nil {
		return nil, time.Time{}, err
	}
	sh := l.shard(key)
	sh.mu.Lock()
	v, ok := sh.m[makeBucketKey(key)]
	sh.mu.Unlock()
	if !ok || len(key) > maxLocalKey {
		return l.st.Get(ctx, key)
	}
	b := unpack(v)
	if l.isClosed() {
		return nil, time.Time{}, store.ErrClosed
	}
	tat := l.live(b, l.o.Now().UnixNano())
	if tat == 0 {
		return nil, time.Time{}, store.ErrNotFound
	}
	return EncodeTAT(tat), time.Unix(0, tat).Add(l.o.Slack), nil
}

// forget drops key's bucket so that a direct write to the store wins.
func (l *Local) forget(key string) {
	if len(key) > maxLocalKey {
		return
	}
	sh := l.shard(key)
	sh.mu.Lock()
	delete(sh.m, makeBucketKey(key))
	sh.mu.Unlock()
}

// Put drops key's bucket, then writes the store.
func (l *Local) Put(ctx context.Context, key string, v []byte, exp time.Time) error {
	l.forget(key)
	return l.st.Put(ctx, key, v, exp)
}

// Delete drops key's bucket, then deletes it from the store.
func (l *Local) Delete(ctx context.Context, key string) error {
	l.forget(key)
	return l.st.Delete(ctx, key)
}

// CompareAndSwap writes what Local holds for key first, then swaps in the
// store, so that old is compared with the current state.
func (l *Local) CompareAndSwap(ctx context.Context, key string, old, new []byte, exp time.Time) (bool, error) {
	if err := l.writeOut(ctx, key); err != nil {
		return false, err
	}
	return l.st.CompareAndSwap(ctx, key, old, new, exp)
}

// Incr writes what Local holds for key first, then increments in the store.
func (l *Local) Incr(ctx context.Context, key string, delta int64, exp time.Time) (int64, error) {
	if err := l.writeOut(ctx, key); err != nil {
		return 0, err
	}
	return l.st.Incr(ctx, key, delta, exp)
}

// writeOut writes key's changed bucket to the store and drops it.
func (l *Local) writeOut(ctx context.Context, key string) error {
	if len(key) > maxLocalKey {
		return nil
	}
	k := makeBucketKey(key)
	sh := l.shard(key)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	v, ok := sh.m[k]
	if !ok {
		return nil
	}
	b := unpack(v)
	if tat := l.live(b, l.o.Now().UnixNano()); b.dirty && tat != 0 {
		if err := l.st.Put(ctx, key, EncodeTAT(tat), time.Unix(0, tat).Add(l.o.Slack)); err != nil {
			return fmt.Errorf("ratelimit: write %q: %w", key, err)
		}
	}
	delete(sh.m, k)
	return nil
}
