package resolver

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/tempfail/tempfail/internal/testutil/dnstest"
)

func mustRR(t *testing.T, s string) dns.RR {
	t.Helper()
	rr, err := dns.NewRR(s)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

func TestParse(t *testing.T) {
	clk := newClock()
	r, err := New(Config{Servers: []string{"127.0.0.1"}, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	soa := "example.test. 300 IN SOA ns.example.test. h.example.test. 1 3600 600 86400 60"
	tests := []struct {
		name    string
		qtype   uint16
		rcode   int
		answer  []string
		ns      []string
		status  Status
		reason  Reason
		nx      bool
		ttl     time.Duration
		records int
	}{
		{"no SOA: negative answer not cached (RFC 2308 section 5)",
			dns.TypeA, dns.RcodeNameError, nil, nil, NotFound, ReasonNone, true, 0, 0},
		{"NODATA with SOA",
			dns.TypeA, dns.RcodeSuccess, nil, []string{soa}, NotFound, ReasonNone, false, time.Minute, 0},
		{"records with NXDOMAIN make no sense",
			dns.TypeA, dns.RcodeNameError, []string{"x.example.test. 300 IN A 192.0.2.1"}, nil, TempFail, ReasonBadResponse, false, 0, 0},
		{"other owners ignored",
			dns.TypeA, dns.RcodeSuccess, []string{"other.example.test. 300 IN A 192.0.2.1"}, nil, NotFound, ReasonNone, false, 0, 0},
		{"case-insensitive owner, minimum TTL of the RRset",
			dns.TypeA, dns.RcodeSuccess, []string{"X.Example.TEST. 300 IN A 192.0.2.1", "x.example.test. 100 IN A 192.0.2.2"}, nil, Found, ReasonNone, false, 100 * time.Second, 2},
		{"CNAME TTL counts",
			dns.TypeA, dns.RcodeSuccess, []string{"x.example.test. 20 IN CNAME y.example.test.", "y.example.test. 300 IN A 192.0.2.1"}, nil, Found, ReasonNone, false, 20 * time.Second, 1},
		{"CNAME chain out of order",
			dns.TypeA, dns.RcodeSuccess, []string{"z.example.test. 300 IN A 192.0.2.1", "y.example.test. 300 IN CNAME z.example.test.", "x.example.test. 300 IN CNAME y.example.test."}, nil, Found, ReasonNone, false, 300 * time.Second, 1},
		{"CNAME to NXDOMAIN, negative TTL bounded by the CNAME",
			dns.TypeA, dns.RcodeNameError, []string{"x.example.test. 30 IN CNAME gone.example.test."}, []string{soa}, NotFound, ReasonNone, true, 30 * time.Second, 0},
		{"CNAME loop",
			dns.TypeA, dns.RcodeSuccess, []string{"x.example.test. 300 IN CNAME y.example.test.", "y.example.test. 300 IN CNAME x.example.test."}, nil, TempFail, ReasonBadResponse, false, 0, 0},
		{"TTL 0 is not cached",
			dns.TypeA, dns.RcodeSuccess, []string{"x.example.test. 0 IN A 192.0.2.1"}, nil, Found, ReasonNone, false, 0, 1},
		{"SERVFAIL", dns.TypeA, dns.RcodeServerFailure, nil, nil, TempFail, ReasonServFail, false, 0, 0},
		{"NOTIMP", dns.TypeA, dns.RcodeNotImplemented, nil, nil, TempFail, ReasonRcode, false, 0, 0},
		{"wrong class ignored",
			dns.TypeTXT, dns.RcodeSuccess, []string{"x.example.test. 300 CH TXT \"x\""}, nil, NotFound, ReasonNone, false, 0, 0},
	}
	for _, tt := range tests {
		m := new(dns.Msg)
		m.SetQuestion("x.example.test.", tt.qtype)
		m.Response = true
		m.Rcode = tt.rcode
		for _, s := range tt.answer {
			m.Answer = append(m.Answer, mustRR(t, s))
		}
		for _, s := range tt.ns {
			m.Ns = append(m.Ns, mustRR(t, s))
		}
		a := r.parse(m, key{"x.example.test", tt.qtype})
		res := a.result(clk.Now(), false)
		n := len(a.addrs) + len(a.txt)
		if res.Status != tt.status || res.Reason != tt.reason || res.NXDomain != tt.nx || res.TTL != tt.ttl || n != tt.records {
			t.Errorf("%s: got %+v with %d records", tt.name, res, n)
		}
	}
}

func TestMatches(t *testing.T) {
	q := new(dns.Msg)
	q.SetQuestion("x.example.test.", dns.TypeMX)
	reply := func(edit func(*dns.Msg)) *dns.Msg {
		m := new(dns.Msg)
		m.SetReply(q)
		edit(m)
		return m
	}
	tests := []struct {
		name string
		m    *dns.Msg
		ok   bool
	}{
		{"same", reply(func(*dns.Msg) {}), true},
		{"0x20 case", reply(func(m *dns.Msg) { m.Question[0].Name = "X.Example.Test." }), true},
		{"other name", reply(func(m *dns.Msg) { m.Question[0].Name = "y.example.test." }), false},
		{"other type", reply(func(m *dns.Msg) { m.Question[0].Qtype = dns.TypeA }), false},
		{"other class", reply(func(m *dns.Msg) { m.Question[0].Qclass = dns.ClassCHAOS }), false},
		{"not a response", reply(func(m *dns.Msg) { m.Response = false }), false},
		{"no question, NOERROR", reply(func(m *dns.Msg) { m.Question = nil }), false},
		{"no question, FORMERR", reply(func(m *dns.Msg) { m.Question = nil; m.Rcode = dns.RcodeFormatError }), true},
	}
	for _, tt := range tests {
		if got := matches(tt.m, q); got != tt.ok {
			t.Errorf("%s: matches = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

// startHandler serves h on a loopback UDP port.
func startHandler(t *testing.T, h dns.HandlerFunc) string {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(up) }}
	go srv.ActivateAndServe()
	<-up
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

func TestMismatchedReply(t *testing.T) {
	addr := startHandler(t, func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Question[0].Name = "evil.example."
		m.Answer = []dns.RR{mustRR(t, "evil.example. 300 IN A 192.0.2.66")}
		w.WriteMsg(m)
	})
	r, _ := newTest(t, Config{Servers: []string{addr}, Attempts: 1})
	res, _ := r.LookupA(context.Background(), "x.example.test")
	if res.Status != TempFail || res.Reason != ReasonBadResponse {
		t.Errorf("got %+v, want TempFail bad response", res)
	}
}

func TestRecursionDesiredAndEDNS(t *testing.T) {
	got := make(chan *dns.Msg, 1)
	addr := startHandler(t, func(w dns.ResponseWriter, req *dns.Msg) {
		select {
		case got <- req:
		default:
		}
		m := new(dns.Msg)
		m.SetRcode(req, dns.RcodeNameError)
		w.WriteMsg(m)
	})
	r, _ := newTest(t, Config{Servers: []string{addr}})
	r.LookupA(context.Background(), "x.example.test")
	req := <-got
	if !req.RecursionDesired {
		t.Error("RD not set")
	}
	if opt := req.IsEdns0(); opt == nil || opt.UDPSize() != UDPSize || opt.Do() {
		t.Errorf("OPT = %v, want EDNS0 with %d bytes, DO clear", opt, UDPSize)
	}
}

func TestNoEDNSFallback(t *testing.T) {
	srv := dnstest.Start(t, testZone, dnstest.NoEDNS("example.test"))
	r, _ := newTest(t, Config{Attempts: 1}, srv)
	res, _ := r.LookupMX(context.Background(), "example.test")
	if res.Status != Found || len(res.Records) != 2 {
		t.Errorf("got %+v", res)
	}
	if got := srv.Queries("example.test", dns.TypeMX); got != 2 {
		t.Errorf("%d queries, want 2 (with, then without EDNS)", got)
	}
}
