package greylist

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the greylisting check, and its in-memory counters. Created
// once per process and kept across reloads.
type Metrics struct {
	Outcomes       *prometheus.CounterVec
	DelayUntilPass prometheus.Histogram
	Allowlisted    prometheus.Counter
	PendingCapped  prometheus.Counter

	pending pendingCounts // see pending.go
}

// NewMetrics creates the collectors and registers them on reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_greylist_outcomes_total",
			Help: "Greylisting outcomes by reason (new_triplet, retry_too_early, passed, ...).",
		}, []string{"reason"}),
		DelayUntilPass: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "tempfail_greylist_delay_until_pass_seconds",
			Help: "How long legitimate mail actually waited: first attempt to the retry that passed.",
			// 1 min .. 2 days: the interesting range is the sending MTA's retry schedule.
			Buckets: []float64{60, 300, 420, 600, 900, 1200, 1800, 2700, 3600, 7200, 14400, 28800, 86400, 172800},
		}),
		Allowlisted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tempfail_greylist_auto_allowlisted_total",
			Help: "Client networks that reached the auto-allowlist threshold.",
		}),
		PendingCapped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tempfail_greylist_pending_capped_total",
			Help: "New triplets not stored because their client network hit max_pending_per_network.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Outcomes, m.DelayUntilPass, m.Allowlisted, m.PendingCapped)
	}
	return m
}
