package senderdomain

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the sender domain check. Created once per process.
type Metrics struct {
	// Outcomes counts every sender looked at by result: ok, not_found,
	// null_mx, dns_tempfail, exempt_sasl, null_sender, no_domain.
	Outcomes *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them on reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_senderdomain_outcomes_total",
			Help: "Sender domain checks by outcome (ok, not_found, null_mx, dns_tempfail, ...).",
		}, []string{"outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.Outcomes)
	}
	return m
}
