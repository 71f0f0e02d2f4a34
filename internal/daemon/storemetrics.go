package daemon

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/store"
)

// storeMetrics times every store operation and counts failures, whatever
// the store behind it.
type storeMetrics struct {
	ops     *prometheus.HistogramVec
	errs    *prometheus.CounterVec
	flushes *prometheus.HistogramVec
	flushed prometheus.Counter
	swept   prometheus.Counter
	merges  *prometheus.HistogramVec
	merged  prometheus.Counter
}

func newStoreMetrics(reg prometheus.Registerer) *storeMetrics {
	m := &storeMetrics{
		ops: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tempfail_store_operation_duration_seconds",
			Help:    "Latency of store operations by operation.",
			Buckets: []float64{.000001, .000005, .00001, .00005, .0001, .0005, .001, .005, .01, .1},
		}, []string{"op"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_store_errors_total",
			Help: "Failed store operations by operation (flush: background group commit).",
		}, []string{"op"}),
		flushes: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tempfail_store_flush_duration_seconds",
			Help:    "Duration of group commits of the embedded store.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}, []string{"result"}),
		flushed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tempfail_store_flushed_keys_total",
			Help: "Entries appended to the embedded store's log by group commits.",
		}),
		swept: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tempfail_store_expired_keys_removed_total",
			Help: "Expired keys removed by the incremental sweeper.",
		}),
		merges: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tempfail_store_merge_duration_seconds",
			Help:    "Duration of the embedded store's merge transactions (log into the B+tree).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"result"}),
		merged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tempfail_store_merged_entries_total",
			Help: "Entries merged from the embedded store's log into its B+tree.",
		}),
	}
	reg.MustRegister(m.ops, m.errs, m.flushes, m.flushed, m.swept, m.merges, m.merged)
	return m
}

func (m *storeMetrics) onFlush(n int, d time.Duration, err error) {
	if err != nil {
		m.errs.WithLabelValues("flush").Inc()
		m.flushes.WithLabelValues("error").Observe(d.Seconds())
		return
	}
	m.flushes.WithLabelValues("ok").Observe(d.Seconds())
	m.flushed.Add(float64(n))
}

func (m *storeMetrics) onMerge(n int, _ bool, d time.Duration, err error) {
	if err != nil {
		m.errs.WithLabelValues("merge").Inc()
		m.merges.WithLabelValues("error").Observe(d.Seconds())
		return
	}
	m.merges.WithLabelValues("ok").Observe(d.Seconds())
	m.merged.Add(float64(n))
}

func (m *storeMetrics) onSweep(scanned, removed int, d time.Duration, err error) {
	if err != nil {
		m.errs.WithLabelValues("sweep").Inc()
		return
	}
	m.swept.Add(float64(removed))
}

type instrumented struct {
	s store.Store
	m *storeMetrics
	// observers are resolved once: WithLabelValues per call would cost a
	// map lookup and a lock on the hot path.
	get, put, del, cas, incr      prometheus.Observer
	eget, eput, edel, ecas, eincr prometheus.Counter
}

// instrument wraps s. When s implements ratelimit.Atomic (a store that
// runs a GCRA step in one round trip, such as Redis) or store.Updater (a
// locked read-modify-write: the embedded and in-memory stores) the wrapper
// forwards them, timed as ops "gcra" and "update": hiding them would
// silently send the rate limiter back to its slower Get + CompareAndSwap
// loop.
func instrument(s store.Store, m *storeMetrics) store.Store {
	i := newInstrumented(s, m)
	a, isAtomic := s.(ratelimit.Atomic)
	u, isUpdater := s.(store.Updater)
	var ia *instrumentedAtomic
	var iu *instrumentedUpdater
	if isAtomic {
		ia = &instrumentedAtomic{instrumented: i, a: a,
			gcra: m.ops.WithLabelValues("gcra"), egcra: m.errs.WithLabelValues("gcra")}
	}
	if isUpdater {
		iu = &instrumentedUpdater{instrumented: i, u: u,
			update: m.ops.WithLabelValues("update"), eupdate: m.errs.WithLabelValues("update")}
	}
	switch {
	case isAtomic && isUpdater:
		return instrumentedBoth{instrumentedAtomic: ia, up: iu}
	case isAtomic:
		return ia
	case isUpdater:
		return iu
	}
	return i
}

// instrumentedAtomic is instrumented plus a forwarded ratelimit.Atomic.
type instrumentedAtomic struct {
	*instrumented
	a     ratelimit.Atomic
	gcra  prometheus.Observer
	egcra prometheus.Counter
}

func (i *instrumentedAtomic) GCRA(ctx context.Context, c ratelimit.AtomicCall) (ratelimit.Result, error) {
	t0 := time.Now()
	r, err := i.a.GCRA(ctx, c)
	done(i.gcra, i.egcra, t0, err)
	return r, err
}

// instrumentedUpdater is instrumented plus a forwarded store.Updater.
type instrumentedUpdater struct {
	*instrumented
	u       store.Updater
	update  prometheus.Observer
	eupdate prometheus.Counter
}

func (i *instrumentedUpdater) Update(ctx context.Context, key string, fn store.UpdateFunc) error {
	t0 := time.Now()
	err := i.u.Update(ctx, key, fn)
	done(i.update, i.eupdate, t0, err)
	return err
}

// instrumentedBoth forwards both.
type instrumentedBoth struct {
	*instrumentedAtomic
	up *instrumentedUpdater
}

func (i instrumentedBoth) Update(ctx context.Context, key string, fn store.UpdateFunc) error {
	return i.up.Update(ctx, key, fn)
}

func newInstrumented(s store.Store, m *storeMetrics) *instrumented {
	return &instrumented{s: s, m: m,
		get: m.ops.WithLabelValues("get"), put: m.ops.WithLabelValues("put"), del: m.ops.WithLabelValues("delete"),
		cas: m.ops.WithLabelValues("cas"), incr: m.ops.WithLabelValues("incr"),
		eget: m.errs.WithLabelValues("get"), eput: m.errs.WithLabelValues("put"), edel: m.errs.WithLabelValues("delete"),
		ecas: m.errs.WithLabelValues("cas"), eincr: m.errs.WithLabelValues("incr"),
	}
}

func done(o prometheus.Observer, c prometheus.Counter, t0 time.Time, err error) {
	o.Observe(time.Since(t0).Seconds())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.Inc()
	}
}

func (i *instrumented) Get(ctx context.Context, key string) ([]byte, time.Time, error) {
	t0 := time.Now()
	v, e, err := i.s.Get(ctx, key)
	done(i.get, i.eget, t0, err)
	return v, e, err
}

func (i *instrumented) Put(ctx context.Context, key string, value []byte, exp time.Time) error {
	t0 := time.Now()
	err := i.s.Put(ctx, key, value, exp)
	done(i.put, i.eput, t0, err)
	return err
}

func (i *instrumented) Delete(ctx context.Context, key string) error {
	t0 := time.Now()
	err := i.s.Delete(ctx, key)
	done(i.del, i.edel, t0, err)
	return err
}

func (i *instrumented) CompareAndSwap(ctx context.Context, key string, old, new []byte, exp time.Time) (bool, error) {
	t0 := time.Now()
	ok, err := i.s.CompareAndSwap(ctx, key, old, new, exp)
	done(i.cas, i.ecas, t0, err)
	return ok, err
}

func (i *instrumented) Incr(ctx context.Context, key string, delta int64, exp time.Time) (int64, error) {
	t0 := time.Now()
	n, err := i.s.Incr(ctx, key, delta, exp)
	done(i.incr, i.eincr, t0, err)
	return n, err
}

func (i *instrumented) Close() error { return i.s.Close() }
