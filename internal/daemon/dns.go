package daemon

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tempfail/tempfail/internal/config"
	"github.com/tempfail/tempfail/internal/facts"
	"github.com/tempfail/tempfail/internal/resolver"
)

// newFacts builds the one resolver of the DNS checks from [dns] and
// registers its lookup counters.
func newFacts(cfg *config.Config, reg prometheus.Registerer) (*facts.Source, error) {
	size := cfg.DNS.CacheSize
	if size == 0 {
		size = -1 // resolver: negative disables the cache; 0 would mean its default
	}
	r, err := resolver.New(resolver.Config{
		Servers:   cfg.DNS.Servers,
		Timeout:   cfg.DNS.Timeout.D(),
		Attempts:  cfg.DNS.Attempts,
		CacheSize: size,
	})
	if err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	if reg != nil {
		reg.MustRegister(&dnsCollector{r: r})
	}
	return &facts.Source{R: r}, nil
}

// factsFor returns the facts source for cfg: the one resolver (kept across
// reloads, with its cache) and the DNSBL checker of cfg's [dnsbl] sites,
// whose scores the dnsbl check's metrics observe.
func (d *Daemon) factsFor(cfg *config.Config) (*facts.Source, error) {
	src := &facts.Source{R: d.facts.R, Risk: d.facts.Risk}
	if !cfg.DNSBL.Enabled() || src.R == nil {
		return src, nil
	}
	c, err := cfg.DNSBL.NewChecker(src.R)
	if err != nil {
		return nil, err
	}
	src.DNSBL = c
	src.OnDNSBL = d.cmetrics.DNSBL.Observer(d.log)
	return src, nil
}

// dnsCollector exports resolver.Stats as Prometheus counters: read at
// scrape time, nothing is counted twice on the lookup path.
type dnsCollector struct{ r *resolver.Resolver }

var (
	dnsLookups = prometheus.NewDesc("tempfail_dns_lookups_total",
		"DNS lookups asked for by checks, by outcome: cache_hit, coalesced (joined a query in flight), tempfail (timeout, SERVFAIL...), total.",
		[]string{"outcome"}, nil)
	dnsQueries = prometheus.NewDesc("tempfail_dns_queries_total",
		"DNS messages sent to servers, by kind: all, tcp_fallback, timeout.", []string{"kind"}, nil)
	dnsCache = prometheus.NewDesc("tempfail_dns_cache_entries", "DNS answers held in the cache.", nil, nil)
	dnsEvict = prometheus.NewDesc("tempfail_dns_cache_evictions_total", "Cached DNS answers dropped to make room.", nil, nil)
)

func (c *dnsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- dnsLookups
	ch <- dnsQueries
	ch <- dnsCache
	ch <- dnsEvict
}

func (c *dnsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.Stats()
	ch <- prometheus.MustNewConstMetric(dnsLookups, prometheus.CounterValue, float64(s.Lookups), "total")
	ch <- prometheus.MustNewConstMetric(dnsLookups, prometheus.CounterValue, float64(s.CacheHits), "cache_hit")
	ch <- prometheus.MustNewConstMetric(dnsLookups, prometheus.CounterValue, float64(s.Coalesced), "coalesced")
	ch <- prometheus.MustNewConstMetric(dnsLookups, prometheus.CounterValue, float64(s.TempFails), "tempfail")
	ch <- prometheus.MustNewConstMetric(dnsQueries, prometheus.CounterValue, float64(s.Queries), "all")
	ch <- prometheus.MustNewConstMetric(dnsQueries, prometheus.CounterValue, float64(s.TCPFallbacks), "tcp_fallback")
	ch <- prometheus.MustNewConstMetric(dnsQueries, prometheus.CounterValue, float64(s.Timeouts), "timeout")
	ch <- prometheus.MustNewConstMetric(dnsCache, prometheus.GaugeValue, float64(s.CacheEntries))
	ch <- prometheus.MustNewConstMetric(dnsEvict, prometheus.CounterValue, float64(s.Evictions))
}
