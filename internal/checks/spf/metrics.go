package spf

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the SPF check. Created once per process.
type Metrics struct {
	// Results counts SPF evaluations (once per transaction) by result and
	// identity (mailfrom, helo).
	Results *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them on reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_spf_results_total",
			Help: "SPF results (pass, fail, softfail, neutral, none, temperror, permerror) by identity, once per transaction.",
		}, []string{"result", "identity"}),
	}
	if reg != nil {
		reg.MustRegister(m.Results)
	}
	return m
}
