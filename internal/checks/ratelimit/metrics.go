package ratelimit

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes, the outcome label of tempfail_ratelimit_decisions_total.
const (
	OutcomeAllowed  = "allowed"
	OutcomeLimited  = "limited"  // deferred (450 4.7.1)
	OutcomeHeld     = "held"     // HOLD
	OutcomeRejected = "rejected" // 550 5.7.1, or the permanent reply for a cost above the burst
	OutcomeLogged   = "logged"   // over the limit, action = "log"
	OutcomeObserved = "observed" // over the limit, mode = "observe": nothing done
)

// Metrics of the rate-limit check. Created once per process and kept
// across reloads.
type Metrics struct {
	Decisions *prometheus.CounterVec

	mu     sync.Mutex
	gauges map[string]*keyGauge // by limit name
	active map[string]bool      // limits of the chain built last
	keys   *prometheus.Desc
}

// NewMetrics creates the collectors and registers them on reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_ratelimit_decisions_total",
			Help: "Rate-limit decisions by limit and outcome (allowed, limited, held, rejected, logged, observed).",
		}, []string{"limit", "outcome"}),
		gauges: map[string]*keyGauge{},
		active: map[string]bool{},
		keys: prometheus.NewDesc("tempfail_ratelimit_keys",
			"Keys (buckets) with budget in use, per limit, as counted by this process since it started (approximate, see the check's README).",
			[]string{"limit"}, nil),
	}
	if reg != nil {
		reg.MustRegister(m.Decisions, keysCollector{m})
	}
	return m
}

// attach gives every limit its key gauge, making one when the limit is new or
// its timing changed, and marks these limits as the ones reported.
func (m *Metrics) attach(ls []*limit) {
	m.mu.Lock()
	defer m.mu.Unlock()
	active := make(map[string]bool, len(ls))
	for _, l := range ls {
		width := int64(l.lim.Tolerance())/(gaugeSlots-2) + 1
		g := m.gauges[l.cfg.Name]
		if g == nil || g.width != width {
			g = &keyGauge{width: width}
			m.gauges[l.cfg.Name] = g
		}
		l.keys = g
		active[l.cfg.Name] = true
	}
	m.active = active
}

type keysCollector struct{ m *Metrics }

func (k keysCollector) Describe(ch chan<- *prometheus.Desc) { ch <- k.m.keys }

func (k keysCollector) Collect(ch chan<- prometheus.Metric) {
	now := time.Now().UnixNano()
	k.m.mu.Lock()
	defer k.m.mu.Unlock()
	for name := range k.m.active {
		if g := k.m.gauges[name]; g != nil {
			ch <- prometheus.MustNewConstMetric(k.m.keys, prometheus.GaugeValue, float64(g.count(now)), name)
		}
	}
}

// gaugeSlots is the size of a keyGauge's ring.
const gaugeSlots = 64

// keyGauge counts a limit's live keys without storing them: the store has
// no per-prefix count, and a set of keys in memory would cost more than
// the keys themselves. A key is live until its TAT (the store forgets it
// then); every charge tells us the key's old TAT (new TAT - cost*T) and its
// new one, so the gauge moves one key from the old TAT's slot to the new
// one's, or adds one when the bucket was empty. Slots are TAT/width, in a
// ring of 64 spanning more than a full burst, so live keys never share a
// slot with dead ones. It is exact for keys this process charged since it
// started (a key charged before a restart, or by another MX host sharing a
// store, is not counted) and rounds expiry up to one slot width.
type keyGauge struct {
	mu    sync.Mutex
	width int64
	slots [gaugeSlots]struct{ epoch, n int64 }
}

// charged records a charge of a bucket from oldTAT to newTAT at now.
func (g *keyGauge) charged(now, oldTAT, newTAT int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if oldTAT > now {
		e := oldTAT / g.width
		if s := &g.slots[e%gaugeSlots]; s.epoch == e && s.n > 0 {
			s.n--
		}
	}
	e := newTAT / g.width
	s := &g.slots[e%gaugeSlots]
	if s.epoch != e {
		s.epoch, s.n = e, 0
	}
	s.n++
}

func (g *keyGauge) count(now int64) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	cur := now / g.width
	var n int64
	for i := range g.slots {
		if s := &g.slots[i]; s.epoch >= cur {
			n += s.n
		}
	}
	return n
}
