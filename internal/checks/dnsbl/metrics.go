package dnsbl

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	xl "github.com/tempfail/tempfail/internal/dnsbl"
	"github.com/tempfail/tempfail/internal/policy"
)

// Metrics of the DNSBL check. Created once per process.
type Metrics struct {
	// Outcomes counts the requests looked at by result: listed (at or
	// above the threshold), below_threshold, allowlisted (negative
	// score), not_listed, dns_tempfail (some list gave no answer and the
	// client was not rejected), exempt_sasl, exempt_client.
	Outcomes *prometheus.CounterVec
	// Hits counts matching entries per list (every score computed).
	Hits *prometheus.CounterVec
	// TempFails counts lists that gave no usable answer in time; they
	// count 0 and never block.
	TempFails *prometheus.CounterVec
	// Problems counts answers not used because the list cannot be trusted
	// from here (kind "error_code": e.g. Spamhaus refusing queries via a
	// public resolver; "outside_loopback": a parked domain).
	Problems *prometheus.CounterVec
}

// NewMetrics creates the collectors and registers them on reg (nil: not
// registered).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_dnsbl_outcomes_total",
			Help: "DNSBL checks by outcome (listed, below_threshold, allowlisted, not_listed, dns_tempfail, exempt_sasl, exempt_client).",
		}, []string{"outcome"}),
		Hits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_dnsbl_hits_total",
			Help: "DNSBL/DNSWL entries that matched a client, by list.",
		}, []string{"list"}),
		TempFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_dnsbl_tempfail_total",
			Help: "DNSBL/DNSWL lookups without a usable answer in time (timeout, SERVFAIL), by list; they count 0.",
		}, []string{"list"}),
		Problems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "tempfail_dnsbl_problems_total",
			Help: "DNSBL/DNSWL answers not used (error_code: the list refuses our resolver; outside_loopback: parked domain), by list.",
		}, []string{"list", "kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.Outcomes, m.Hits, m.TempFails, m.Problems)
	}
	return m
}

// Observer is what facts.Source.OnDNSBL calls with every score computed:
// it counts hits, temporary failures and problems per list, and logs a
// warning the first time a list shows a problem (an error code such as
// Spamhaus's 127.255.255.254 means the list refuses our resolver and
// protects nothing until the DNS setup changes). log may be nil.
func (m *Metrics) Observer(log *slog.Logger) func(context.Context, *policy.Request, xl.Result) {
	return func(ctx context.Context, req *policy.Request, res xl.Result) {
		for _, h := range res.Hits {
			m.Hits.WithLabelValues(h.List).Inc()
		}
		for _, f := range res.TempFail {
			m.TempFails.WithLabelValues(f.List).Inc()
		}
		for _, p := range res.Problems {
			kind := "error_code"
			if p.Kind == xl.OutsideLoopback {
				kind = "outside_loopback"
			}
			m.Problems.WithLabelValues(p.List, kind).Inc()
			if p.First && log != nil {
				log.LogAttrs(ctx, slog.LevelWarn, "DNSBL answers not used; the list protects nothing until this is fixed (logged once per list)",
					slog.String("list", p.List), slog.String("problem", p.Kind.String()),
					slog.String("answer", addrs(p)), slog.String("detail", p.Detail),
					slog.String("client", req.Client.String()))
			}
		}
	}
}

func addrs(p xl.Problem) string {
	s := ""
	for i, a := range p.Addrs {
		if i > 0 {
			s += " "
		}
		s += a.String()
	}
	return s
}
