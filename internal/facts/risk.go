package facts

import (
	"context"
	"strconv"
	"strings"

	"blitiri.com.ar/go/spf"
)

// Weights are the points each risk signal adds (risk-based greylisting).
// A TempFail fact adds nothing: transient DNS trouble is not a sign of
// spam.
type Weights struct {
	NoPTR        int // no reverse DNS at all
	UnconfirmedR int // PTR that does not resolve back
	Dynamic      int // generic end-user host name (ip-1-2-3-4.dsl.isp.example)
	SPFFail      int
	SPFSoftFail  int
	SPFNone      int // no SPF record, or neutral
	New          int // not on greylisting's auto-allowlist (added by greylist)
	// DNSBL: the DNSBL score itself is added (negative for DNSWL listings).
}

// DefaultWeights: a client with forward-confirmed reverse DNS and SPF
// pass scores at most New (1); without reverse DNS it scores at least 3.
func DefaultWeights() Weights {
	return Weights{NoPTR: 3, UnconfirmedR: 2, Dynamic: 2, SPFFail: 3, SPFSoftFail: 2, SPFNone: 1, New: 1}
}

// RiskPart is one signal that contributed to a risk score.
type RiskPart struct {
	Name   string // no_ptr, unconfirmed_ptr, dynamic_name, dnsbl, spf_fail, spf_softfail, spf_none, new
	Points int
}

// Risk is a sum of signals.
type Risk struct {
	Score int
	Parts []RiskPart
}

func (r Risk) String() string {
	var b strings.Builder
	b.WriteString(strconv.Itoa(r.Score))
	if len(r.Parts) > 0 {
		b.WriteString(":")
		for _, p := range r.Parts {
			b.WriteString(" ")
			b.WriteString(p.Name)
			b.WriteString("=")
			b.WriteString(strconv.Itoa(p.Points))
		}
	}
	return b.String()
}

func (r *Risk) add(name string, points int) {
	if points == 0 {
		return
	}
	r.Score += points
	r.Parts = append(r.Parts, RiskPart{name, points})
}

// Weights returns the source's weights.
func (s *Set) weights() Weights {
	if s.src == nil || s.src.Risk == (Weights{}) {
		return DefaultWeights()
	}
	return s.src.Risk
}

// AddRisk adds a signal a check knows of (greylisting: "new").
func (s *Set) AddRisk(name string, points int) {
	if points != 0 {
		s.extra = append(s.extra, RiskPart{name, points})
	}
}

// NewWeight is the points for a client that is not on the auto-allowlist.
func (s *Set) NewWeight() int { return s.weights().New }

// Risk returns the DNS part of the risk (computed once; it asks for
// reverse DNS, SPF and the DNSBL score) plus what checks added.
func (s *Set) Risk(ctx context.Context) Risk {
	base := s.risk.get(func() Risk {
		w := s.weights()
		var r Risk
		rd := s.ReverseDNS(ctx)
		switch rd.Status {
		case Missing:
			r.add("no_ptr", w.NoPTR)
		case Mismatch:
			r.add("unconfirmed_ptr", w.UnconfirmedR)
		}
		if rd.Name != "" && (rd.Status == OK || rd.Status == Mismatch) {
			if dyn, _ := Dynamic(rd.Name, s.req.Client); dyn {
				r.add("dynamic_name", w.Dynamic)
			}
		}
		if d := s.DNSBL(ctx); d.Score != 0 {
			r.add("dnsbl", d.Score)
		}
		switch s.SPF(ctx).Result {
		case spf.Fail:
			r.add("spf_fail", w.SPFFail)
		case spf.SoftFail:
			r.add("spf_softfail", w.SPFSoftFail)
		case spf.None, spf.Neutral:
			r.add("spf_none", w.SPFNone)
		}
		return r
	})
	if len(s.extra) == 0 {
		return base
	}
	out := Risk{Score: base.Score, Parts: append(append([]RiskPart(nil), base.Parts...), s.extra...)}
	for _, p := range s.extra {
		out.Score += p.Points
	}
	return out
}

// RiskComputed returns the risk if something asked for it.
func (s *Set) RiskComputed() (Risk, bool) {
	if !s.risk.done.Load() {
		return Risk{}, false
	}
	return s.Risk(context.Background()), true
}
