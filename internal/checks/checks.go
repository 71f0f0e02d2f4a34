// Package checks fixes the order of the policy checks in one place, in the
// manner of CoreDNS's plugin.cfg: the order of sections in a config file
// never changes the order checks run in.
//
// Where is a greylisting decision made? checks/greylist/greylist.go.
package checks

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tempfail/tempfail/internal/checks/greylist"
	"github.com/tempfail/tempfail/internal/config"
	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/store"
)

// Metrics of every check, created once per process and kept across reloads.
type Metrics struct {
	Greylist *greylist.Metrics
}

// NewMetrics registers every check's collectors on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	return &Metrics{Greylist: greylist.NewMetrics(reg)}
}

// Build returns the enabled checks in their fixed order. It reads list
// files, so it is also what a reload calls; an error leaves the running
// chain untouched.
func Build(cfg *config.Config, st store.Store, m *Metrics) ([]engine.Check, error) {
	var chain []engine.Check
	// 1. Greylisting. Later: sender domain, reverse DNS, SPF, DNSBL,
	// rate limits and recipient verification slot in here, in that order.
	if cfg.Greylist.Enabled {
		ex, err := greylist.LoadExemptions(cfg.Greylist)
		if err != nil {
			return nil, err
		}
		chain = append(chain, greylist.New(cfg.Greylist, st, ex, m.Greylist))
	}
	return chain, nil
}
