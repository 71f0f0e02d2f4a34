package facts

import (
	"net/netip"
	"strconv"
	"strings"
)

// secondLevel are common second-level public suffixes: under them a
// registrable (organisational) domain has three labels. The list is short
// on purpose (no Public Suffix List dependency); an unlisted suffix makes
// OrgDomain return a shorter name than the PSL would, which for its use,
// the greylisting key, only means one more delay, never one less.
var secondLevel = map[string]bool{}

func init() {
	for _, s := range strings.Fields(`
		co.uk org.uk ac.uk gov.uk me.uk ltd.uk plc.uk net.uk sch.uk nhs.uk
		com.au net.au org.au edu.au gov.au asn.au id.au
		co.nz net.nz org.nz ac.nz govt.nz
		co.jp ne.jp or.jp ac.jp go.jp ad.jp ed.jp gr.jp lg.jp
		co.za org.za net.za ac.za gov.za
		com.br net.br org.br gov.br edu.br
		com.cn net.cn org.cn gov.cn edu.cn ac.cn
		com.tw net.tw org.tw edu.tw idv.tw
		co.kr or.kr ne.kr ac.kr go.kr
		com.hk net.hk org.hk edu.hk
		com.sg net.sg org.sg edu.sg
		com.my net.my org.my
		co.in net.in org.in firm.in gen.in ind.in ac.in
		co.il org.il net.il ac.il
		com.mx net.mx org.mx
		com.ar net.ar org.ar
		com.tr net.tr org.tr
		com.ua net.ua org.ua
		com.pl net.pl org.pl
		co.id net.id or.id ac.id
		com.ph net.ph org.ph
		com.vn net.vn
		co.th in.th ac.th
		com.co net.co
		com.pe com.ve com.ec com.uy com.py com.bo
		com.eg com.sa com.pk com.ng co.ke
		co.at or.at ac.at
		com.es nom.es org.es
		com.pt com.gr com.ru
	`) {
		secondLevel[s] = true
	}
}

// OrgDomain returns the organisational domain of a host name: its last
// two labels, or three under a known second-level public suffix
// ("mail-yw1-f41.google.com" -> "google.com", "mx.bbc.co.uk" -> "bbc.co.uk").
// The name is lower-cased and a trailing dot removed. A name of one label,
// or an address literal, is returned as it is.
func OrgDomain(host string) string {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" || strings.HasPrefix(host, "[") {
		return host
	}
	last := strings.LastIndexByte(host, '.')
	if last < 0 {
		return host
	}
	second := strings.LastIndexByte(host[:last], '.')
	if second < 0 {
		return host
	}
	if !secondLevel[host[second+1:]] {
		return host[second+1:]
	}
	third := strings.LastIndexByte(host[:second], '.')
	return host[third+1:]
}

// dynamicWords are labels (or label tokens) that ISPs use for addresses
// handed to end users.
var dynamicWords = map[string]bool{
	"dyn": true, "dynamic": true, "dynip": true, "dsl": true, "adsl": true, "xdsl": true,
	"vdsl": true, "sdsl": true, "pool": true, "dhcp": true, "cable": true, "ppp": true,
	"pppoe": true, "dial": true, "dialup": true, "dialin": true, "customer": true,
	"cust": true, "client": true, "clients": true, "broadband": true, "residential": true,
	"res": true, "ftth": true, "fttx": true, "catv": true, "modem": true, "wifi": true,
	"lte": true, "static": true, "unused": true, "unassigned": true,
}

// Dynamic reports whether a host name looks like the generic name of an
// end-user address rather than a mail server's own: it contains the
// address's digits ("ip-1-2-3-4", "4.3.2.1.dsl", "c0a80001") or a word such
// as dsl, dyn, pool, dhcp, cable, ppp, customer or static, outside its
// organisational domain. "static" counts too: a named server does not need
// to say its address is static.
func Dynamic(name string, ip netip.Addr) (bool, string) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	org := OrgDomain(name)
	local := strings.TrimSuffix(strings.TrimSuffix(name, org), ".")
	if local == "" {
		return false, ""
	}
	toks := strings.FieldsFunc(local, func(r rune) bool {
		return r == '.' || r == '-' || r == '_'
	})
	for _, t := range toks {
		w := strings.TrimRight(t, "0123456789")
		if dynamicWords[t] || (w != "" && w != t && dynamicWords[w]) {
			return true, "word " + t
		}
	}
	if ip = ip.Unmap(); ip.Is4() {
		b := ip.As4()
		n := 0
		for _, t := range toks {
			// "ip1", "host-1-2-3-4", "1.2.3.4.static": strip a word prefix.
			t = strings.TrimLeft(t, "abcdefghijklmnopqrstuvwxyz")
			v, err := strconv.Atoi(t)
			if err != nil || v > 255 {
				continue
			}
			for _, o := range b {
				if int(o) == v {
					n++
					break
				}
			}
		}
		if n >= 3 {
			return true, "address digits"
		}
		hex := strconv.FormatUint(uint64(b[0])<<24|uint64(b[1])<<16|uint64(b[2])<<8|uint64(b[3]), 16)
		hex = strings.Repeat("0", 8-len(hex)) + hex
		compact := ""
		for _, o := range b {
			s := strconv.Itoa(int(o))
			compact += strings.Repeat("0", 3-len(s)) + s
		}
		if strings.Contains(local, hex) || strings.Contains(strings.ReplaceAll(local, "-", ""), compact) {
			return true, "address digits"
		}
	} else if ip.Is6() {
		// IPv6 generic names embed long hex runs of the address.
		if strings.Count(local, "-") >= 6 || strings.Count(local, ".") >= 8 {
			return true, "address digits"
		}
	}
	return false, ""
}
