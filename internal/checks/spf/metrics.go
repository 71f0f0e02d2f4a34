package spf

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the SPF check. Created once per process.
type Metrics struct {
	// Results counts SPF evaluations by result and identity (mailfrom,
	// helo); a result reused from the facts' cache (the transaction's
	// later requests, the same client and sender within the TTL) is not
	// counted again.
	Results *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them on reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_spf_results_total",
			Help: "SPF results (pass, fail, softfail, neutral, none, temperror, permerror) by identity, once per evaluation.",
		}, []string{"result", "identity"}),
	}
	if reg != nil {
		reg.MustRegister(m.Results)
	}
	return m
}
