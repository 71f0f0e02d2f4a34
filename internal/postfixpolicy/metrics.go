package postfixpolicy

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus metrics. They exist even without a
// registry, so the hot path never checks for nil.
type metrics struct {
	active     prometheus.Gauge
	conns      prometheus.Counter
	rejected   prometheus.Counter
	requests   prometheus.Counter
	panics     prometheus.Counter
	protoError [numKinds]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		active: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tempfail_policy_connections_active",
			Help: "Policy protocol connections open now.",
		})),
		conns: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tempfail_policy_connections_total",
			Help: "Policy protocol connections accepted and served (rejected ones not included).",
		})),
		rejected: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tempfail_policy_connections_rejected_total",
			Help: "Policy protocol connections closed at once because MaxConns were open.",
		})),
		requests: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tempfail_policy_requests_total",
			Help: "Policy requests answered.",
		})),
		panics: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: "tempfail_policy_handler_panics_total",
			Help: "Policy requests whose handler panicked; they were answered DUNNO.",
		})),
	}
	errs := register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tempfail_policy_protocol_errors_total",
		Help: "Policy protocol errors by kind; each closed its connection unanswered.",
	}, []string{"kind"}))
	// Resolve every label once: the series exist from the start (a rate()
	// over a series that appears late misses its first increments), and
	// counting needs no label lookup.
	for k := ErrorKind(0); k < numKinds; k++ {
		m.protoError[k] = errs.WithLabelValues(k.String())
	}
	return m
}

// register registers c on reg, if any. When an identical collector is
// already registered (a second Server on the same registry) it shares that
// one. Any other failure is a programming error in the metric definitions.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if reg == nil {
		return c
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic("postfixpolicy: register metrics: " + err.Error())
	}
	return c
}
