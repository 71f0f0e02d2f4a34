// Command dnsserver answers every DNS query on loopback from a wildcard
// zone, so the DNS checks can be benchmarked with answers cached, without
// the internet: every name under "example." has an MX and an SPF record
// that authorises every address; every PTR is NXDOMAIN. Two lists answer
// as RFC 5782 lists do: under "bl.example." an IPv4 client whose last
// octet ends in 0 is listed (127.0.0.2, one client in ten), under
// "wl.example." one whose last octet ends in 1 (127.0.10.2); any other
// client is NXDOMAIN there.
//
//	go run ./bench/dnsserver -addr 127.0.0.1:10053
//
// then start tempfail with [dns] servers = ["127.0.0.1:10053"]. bench/run
// and docs/performance.md ("DNS checks") use it.
package main

import (
	"flag"
	"log"
	"strings"

	"github.com/miekg/dns"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:10053", "UDP and TCP `address` to answer on (loopback)")
	flag.Parse()
	dns.HandleFunc(".", answer)
	errc := make(chan error, 2)
	for _, n := range []string{"udp", "tcp"} {
		s := &dns.Server{Addr: *addr, Net: n}
		go func() { errc <- s.ListenAndServe() }()
	}
	log.Printf("dnsserver answering on %s", *addr)
	log.Fatal(<-errc)
}

const ttl = 3600

func answer(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative, m.RecursionAvailable = true, true
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: ttl}
	soa := &dns.SOA{Hdr: dns.RR_Header{Name: "example.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns: "ns.example.", Mbox: "hostmaster.example.", Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: ttl}
	switch {
	case strings.HasSuffix(name, ".bl.example.") || strings.HasSuffix(name, ".wl.example."):
		// d.c.b.a.LIST.example.: the first label is the last octet.
		first := name[:strings.IndexByte(name, '.')]
		listed, answer := first[len(first)-1] == '0', []byte{127, 0, 0, 2}
		if strings.HasSuffix(name, ".wl.example.") {
			listed, answer = first[len(first)-1] == '1', []byte{127, 0, 10, 2}
		}
		switch {
		case !listed:
			m.Rcode = dns.RcodeNameError
			m.Ns = []dns.RR{soa}
		case q.Qtype == dns.TypeA:
			hdr.Rrtype = dns.TypeA
			m.Answer = []dns.RR{&dns.A{Hdr: hdr, A: answer}}
		case q.Qtype == dns.TypeTXT:
			hdr.Rrtype = dns.TypeTXT
			m.Answer = []dns.RR{&dns.TXT{Hdr: hdr, Txt: []string{"listed for the benchmark"}}}
		default:
			m.Ns = []dns.RR{soa}
		}
	case strings.HasSuffix(name, ".in-addr.arpa.") || strings.HasSuffix(name, ".ip6.arpa."):
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{soa}
	case !strings.HasSuffix(name, ".example."):
		m.Rcode = dns.RcodeRefused
	case q.Qtype == dns.TypeMX:
		hdr.Rrtype = dns.TypeMX
		m.Answer = []dns.RR{&dns.MX{Hdr: hdr, Preference: 10, Mx: "mx.example."}}
	case q.Qtype == dns.TypeTXT:
		hdr.Rrtype = dns.TypeTXT
		m.Answer = []dns.RR{&dns.TXT{Hdr: hdr, Txt: []string{"v=spf1 ip4:0.0.0.0/0 ip6:::/0 -all"}}}
	case q.Qtype == dns.TypeA:
		hdr.Rrtype = dns.TypeA
		m.Answer = []dns.RR{&dns.A{Hdr: hdr, A: []byte{127, 0, 0, 1}}}
	default:
		m.Ns = []dns.RR{soa} // NODATA
	}
	w.WriteMsg(m)
}
