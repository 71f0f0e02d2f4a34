// Package checks fixes the order of the policy checks in one place, in the
// manner of CoreDNS's plugin.cfg: the order of sections in a config file
// never changes the order checks run in.
//
// Where is a greylisting decision made? checks/greylist/greylist.go. A rate
// limit? checks/ratelimit/ratelimit.go.
package checks

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tempfail/tempfail/internal/checks/dnsbl"
	"github.com/tempfail/tempfail/internal/checks/greylist"
	"github.com/tempfail/tempfail/internal/checks/ratelimit"
	"github.com/tempfail/tempfail/internal/checks/reversedns"
	"github.com/tempfail/tempfail/internal/checks/senderdomain"
	"github.com/tempfail/tempfail/internal/checks/spf"
	"github.com/tempfail/tempfail/internal/config"
	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/store"
)

// Metrics of every check, created once per process and kept across reloads.
type Metrics struct {
	Greylist  *greylist.Metrics
	RateLimit *ratelimit.Metrics

	SenderDomain *senderdomain.Metrics
	ReverseDNS   *reversedns.Metrics
	SPF          *spf.Metrics
	DNSBL        *dnsbl.Metrics
}

// NewMetrics registers every check's collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{Greylist: greylist.NewMetrics(reg), RateLimit: ratelimit.NewMetrics(reg)}
	m.SenderDomain = senderdomain.NewMetrics(reg)
	m.ReverseDNS = reversedns.NewMetrics(reg)
	m.SPF = spf.NewMetrics(reg)
	m.DNSBL = dnsbl.NewMetrics(reg)
	return m
}

// Build returns the enabled checks in their fixed order. It reads list
// files, so it is also what a reload calls; an error leaves the running
// chain untouched. st holds the checks' state; limits holds the rate-limit
// buckets (the daemon gives a ratelimit.Local over st on the embedded
// store); nil means st.
func Build(cfg *config.Config, st, limits store.Store, m *Metrics) ([]engine.Check, error) {
	if limits == nil {
		limits = st
	}
	var chain []engine.Check
	// The fixed order: sender domain, reverse DNS, SPF and DNSBL go
	// BEFORE greylisting; then greylisting; then rate limits, which read
	// the trust greylisting establishes (Facts.Trusted) to tell new
	// clients; then recipient verification (later), AFTER rate limits.

	// 1-3. The DNS checks, before greylisting: a sender told "Domain not
	// found" at once is better served than one greylisted first. They
	// share one lookup per fact through Call.Facts.DNS (package facts).
	if cfg.SenderDomain.Enabled {
		chain = append(chain, senderdomain.New(cfg.SenderDomain, m.SenderDomain))
	}
	if cfg.ReverseDNS.Mode != "off" {
		ex, err := reversedns.LoadExemptions(cfg.ReverseDNS)
		if err != nil {
			return nil, err
		}
		chain = append(chain, reversedns.New(cfg.ReverseDNS, ex, m.ReverseDNS))
	}
	if cfg.SPF.Enabled {
		chain = append(chain, spf.New(cfg.SPF, m.SPF))
	}
	// 4. DNSBL/DNSWL, after SPF and before greylisting: a listed client
	// is rejected at once rather than greylisted first. The score is a
	// fact (facts.Set.DNSBL, scored by the checker the daemon builds from
	// [dnsbl]), so greylisting's DNSWL exemption and the risk share it.
	if cfg.DNSBL.Enabled() {
		ex, err := dnsbl.LoadExemptions(cfg.DNSBL)
		if err != nil {
			return nil, err
		}
		chain = append(chain, dnsbl.New(cfg.DNSBL, ex, m.DNSBL))
	}

	// 5. Greylisting.
	if cfg.Greylist.Enabled {
		ex, err := greylist.LoadExemptions(cfg.Greylist)
		if err != nil {
			return nil, err
		}
		chain = append(chain, greylist.New(cfg.Greylist, st, ex, m.Greylist))
	}
	// 6. Rate limits, after greylisting.
	if cfg.RateLimit.Enabled && len(cfg.RateLimit.Limits) > 0 {
		chain = append(chain, ratelimit.New(cfg.RateLimit, limits, m.RateLimit))
	}
	return chain, nil
}
