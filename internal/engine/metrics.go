package engine

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tempfail/tempfail/internal/policy"
)

// Metrics are the engine's Prometheus collectors.
type Metrics struct {
	Decisions *prometheus.CounterVec
	Errors    *prometheus.CounterVec
	Latency   prometheus.Histogram
}

// NewMetrics creates the collectors and registers them on reg (nil: not
// registered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_decisions_total",
			Help: "Policy decisions by deciding check, action and reason.",
		}, []string{"check", "action", "reason"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_check_errors_total",
			Help: "Internal errors answered with on_error, by check and kind (error, deadline, panic).",
		}, []string{"check", "kind"}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "tempfail_request_duration_seconds",
			Help:    "Time to decide one policy request.",
			Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .05, .25, 1, 5},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Decisions, m.Errors, m.Latency)
	}
	return m
}

func (m *Metrics) observe(v policy.Verdict, d time.Duration) {
	m.Decisions.WithLabelValues(v.Check, actionLabel(v), v.Reason).Inc()
	m.Latency.Observe(d.Seconds())
}
