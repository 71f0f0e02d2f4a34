package reversedns

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the reverse DNS check. Created once per process.
type Metrics struct {
	// Outcomes counts clients looked at by result (confirmed, no_ptr,
	// mismatch, dns_tempfail, exempt) and mode (warn, enforce).
	Outcomes *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them on reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_reversedns_outcomes_total",
			Help: "Reverse DNS checks by outcome (confirmed, no_ptr, mismatch, dns_tempfail, exempt) and mode.",
		}, []string{"outcome", "mode"}),
	}
	if reg != nil {
		reg.MustRegister(m.Outcomes)
	}
	return m
}
