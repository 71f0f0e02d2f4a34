package lists

import (
	"strings"
	"testing"
)

// postgreyClients are the entries of postgrey's postgrey_whitelist_clients
// (upstream master after 1.37, the Debian package's additions, and two
// later fork additions), in file order.
var postgreyClients = strings.Fields(`
debconf.org debian.org spi-inc.org
southwest.com scd.yahoo.com isp.belgacom.be ameritradeinfo.com amazon.com
vger.kernel.org karger.ch server-x001.hostpoint.ch gw.bas.roche.com
mail.hhlaw.com prd051.appliedbiosystems.com swissre.com returns.dowjones.com
domin.switch.ch accor-hotels.com /^ms-smtp.*\.rr\.com$/ /^lake.*mta.*\.cox\.net$/
mot.com nic.fr /^s[cv]\d+pub\.verizon\.net$/ cs.columbia.edu 66.216.126.174
/^mail(out)?\d+\.telekom\.de$/ /^smtp\d+\.tiscali\.dk$/ freshmeat.net zd-swx.com
lockergnome.wc09.net p01m168.mxlogic.net p02m169.mxlogic.net /^fmr\d+\.intel\.com$/
/^fe\d+\.cox-internet\.com$/ logismata.ch brief.cw.reum.de qmail.ingeno.ch
mail1.thurweb.ch piggy.rz.tu-ilmenau.de mail.polymed.ch rz.hu-berlin.de
proxy.gmail.com cacert.org polytech.univ-mrs.fr gnu.org cs.ciphire.net
/^gateway\d+\.np4\.de$/ /^mail-in-\d+\.arcor-online\.net$/ netsolmail.com
193.77.153.67 195.235.39 tesla.vtszg.hr /^mailgw.*\.iai\.co\.il$/ gw.stud-serv-mb.si
216.238.112.99 193.81.20.195 193.77.126.208 80.200.249.216 mail2.alliancefr.be
webserver.turboinstitut.si 193.191.218.141 193.191.218.142 193.191.218.143
194.7.234.141 194.7.234.142 194.7.234.143 /^mail\d+\.usafisnews\.org$/
/^odk.fdv.uni-lj.si$/ rak-gentoo-1.nameserver.de mx.dars.si 213.143.66.210
/^mta[12].siol.net$/ /^pim-\d+-\d+\.quickinspirationsmail\.com$/ flymonarch.com
/^p?smtp.*\.wxs\.nl$/ ibm.com messagelabs.com berlin.ptb.de registrarmail.net
google.com /^smtp\d+\.orange\.fr$/ /^smtp\d+.citigroup.com$/ mail.ccs-cruising.ch
diggstage01.digg.com smtp.liberal.ca /^mail[12]\.pi\.ws$/ rambler.ru
/^(?:smtp\w*|postfix)[0-9]+-g[0-9]+\.free\.fr$/ /^netmail\d+\.thehartford\.com$/
/^nse\d+\.abb\.com$/ lists.sourceforge.net polytec.de /^mail\d+\.msg\.oleane\.net$/
nrl.navy.mil mail.aliplast.com /^mx\d+\..*\.inode\.at$/
/^.*?.server.arvato-systems.de$/ /^(?:mail|fallback-mx)\d+.atl.registeredsite.com$/
saturn.mahidol.ac.th ebay.com yahoo.com /^outmail\d+\.sctm\.tfbnw\.net$/
outmail.facebook.com outappmail.facebook.com mail-mail.facebook.com server14.cyon.ch
/^m\d+-\d+\.126\.com$/ home.theory.tifr.res.in ms4-1.1blu.de
/^viefep\d+-int\.chello\.at$/ mx.nic.nu bigfish.com frontbridge.com microsoft.com
postini.com /^mx.*\.evanzo-server\.de$/ upcmail.net /^smtp\d+\.smtpout\.orange\.fr$/
mout-xforward.gmx.net mout-xforward.web.de mout-xforward.kundenserver.de
mout-xforward.perfora.net /^fallback\d+\.mail\.ru$/ /^fallback\d+\.m\.smailru\.net$/
dgfip.finances.gouv.fr /^o\d+\.ntdc\.magisto\.com$/ outlook.com mail.alibaba.com
mail.aliyun.com mtasv.net amazonses.com startcom.org gem.godaddy.com github.com
github.net 206.222.31.58 battle.net twitter.com rrze.uni-erlangen.de
mail-out.ovh.net /^smarthost.*\.evanzo-server\.de$/ 51.4.72.0/24 51.5.72.0/24
51.4.80.0/27 51.5.80.0/27 2a01:4180:4051:0800::/64 2a01:4180:4050:0800::/64
2a01:4180:4051:0400::/64 2a01:4180:4050:0400::/64 protection.outlook.de
systemalerts.mailchimp.com reflexion.net 205.201.128.0/20 198.2.128.0/18
148.105.0.0/16 rekki.com protonmail.ch townsuite.com mailspamprotection.com
mailgun.com mailgun.net mailgun.us mail.infomaniak.ch barracuda.com smtp2go.com
dhosting.com cloudflare.net me.com mimecast.com sparkpostmail.com btinternet.com
lmta.net
`)

// postgreyChanged are postgrey entries the defaults carry in a corrected
// form: unescaped dots also matched registrable look-alike domains.
var postgreyChanged = map[string]string{
	`/^odk.fdv.uni-lj.si$/`:                              `/^odk\.fdv\.uni-lj\.si$/`,
	`/^mta[12].siol.net$/`:                               `/^mta[12]\.siol\.net$/`,
	`/^smtp\d+.citigroup.com$/`:                          `/^smtp\d+\.citigroup\.com$/`,
	`/^.*?.server.arvato-systems.de$/`:                   `/^.*?\.server\.arvato-systems\.de$/`,
	`/^(?:mail|fallback-mx)\d+.atl.registeredsite.com$/`: `/^(?:mail|fallback-mx)\d+\.atl\.registeredsite\.com$/`,
}

// postgreyDropped are postgrey entries deliberately not shipped, see the
// comment in default_clients.txt.
var postgreyDropped = map[string]bool{"isp.belgacom.be": true}

func TestDefaultClientsCoverPostgrey(t *testing.T) {
	have := map[string]bool{}
	for _, r := range DefaultClients().rules {
		if have[r.entry.Text] {
			t.Errorf("%s: duplicate entry", r.entry)
		}
		have[r.entry.Text] = true
	}
	for _, e := range postgreyClients {
		if postgreyDropped[e] {
			if have[e] {
				t.Errorf("%q is listed although it should be dropped", e)
			}
			continue
		}
		want := e
		if c, ok := postgreyChanged[e]; ok {
			want = c
		}
		if !have[want] {
			t.Errorf("postgrey entry %q missing from the defaults", want)
		}
	}
}

func TestDefaultClients(t *testing.T) {
	l := DefaultClients()
	if l != DefaultClients() {
		t.Error("DefaultClients is rebuilt on every call")
	}
	exempt := []struct{ ip, name string }{
		{"", "mail-wr1-f54.google.com"},                             // Gmail
		{"", "mail-dm6nam12on2101.outbound.protection.outlook.com"}, // Microsoft 365
		{"", "sonic315-20.consmr.mail.bf2.yahoo.com"},               // Yahoo
		{"", "omr-m018e.mx.aol.com"},                                // AOL
		{"", "st43p00im-ztdg10073201.me.com"},                       // iCloud
		{"", "a8-33.smtp-out.amazonses.com"},                        // Amazon SES
		{"", "m228-4.mailgun.net"},                                  // Mailgun
		{"", "o1.ptr1234.sendgrid.net"},                             // SendGrid
		{"", "mail135-12.atl141.mcsv.net"},                          // Mailchimp
		{"", "mail1.us4.rsgsv.net"},                                 // Mailchimp
		{"", "mail187-10.suw11.mandrillapp.com"},                    // Mandrill
		{"", "smtp02-ia4-sp3.mta.salesforce.com"},                   // Salesforce
		{"", "mta.cust-mail.exacttarget.com"},                       // Marketing Cloud
		{"", "sender4-op-o15.zoho.com"},                             // Zoho
		{"", "mail-4316.protonmail.ch"},                             // Proton
		{"", "fout-a3-smtp.messagingengine.com"},                    // Fastmail
		{"", "mout.gmx.net"},                                        // GMX
		{"", "mout.web.de"},                                         // web.de
		{"", "f123.i.mail.ru"},                                      // Mail.ru
		{"", "forward500a.mail.yandex.net"},                         // Yandex
		{"", "resqmta-h1p-028590.sys.comcast.net"},                  // Comcast
		{"", "mailout11.t-online.de"},                               // T-Online
		{"", "smtp12.citigroup.com"},                                // postgrey regexp
		{"", "mx1.evanzo-server.de"},                                // postgrey regexp
		{"205.201.131.10", ""},                                      // Mailchimp by address
		{"2a01:4180:4050:400::1", ""},                               // Exchange Online DE
		{"195.235.39.200", ""},                                      // postgrey partial IP
	}
	for _, tc := range exempt {
		if _, ok := l.Match(addr(tc.ip), tc.name); !ok {
			t.Errorf("not exempt: %q %q", tc.ip, tc.name)
		}
	}
	notExempt := []struct{ ip, name string }{
		{"", "c-73-1-2-3.hsd1.ca.comcast.net"},         // Comcast subscriber
		{"", "178.67-183-91.adsl-dyn.isp.belgacom.be"}, // Belgacom subscriber
		{"", "ec2-3-4-5-6.compute-1.amazonaws.com"},    // AWS customer
		{"", "6.5.4.3.bc.googleusercontent.com"},       // Google Cloud customer
		{"", "vps-1234abcd.vps.ovh.net"},               // OVH customer
		{"", "notgoogle.com"},                          // label boundary
		{"", "google.com.example"},                     // suffix, not infix
		{"", "smtp1-citigroup.com"},                    // postgrey's loose regexp
		{"", "unknown"},                                // unverified client
		{"192.0.2.1", "unknown"},                       // documentation address
		{"195.235.40.1", ""},                           // next to a partial IP
	}
	for _, tc := range notExempt {
		if e, ok := l.Match(addr(tc.ip), tc.name); ok {
			t.Errorf("exempt by %q: %q %q", e, tc.ip, tc.name)
		}
	}
}

func TestDefaultClientsFileComments(t *testing.T) {
	// Every group of entries starts with a comment saying who and why.
	prevBlank := true
	for i, ln := range strings.Split(defaultClientsText, "\n") {
		ln = strings.TrimSpace(ln)
		switch {
		case ln == "":
			prevBlank = true
		case strings.HasPrefix(ln, "#"):
			prevBlank = false
		default:
			if prevBlank {
				t.Errorf("%s:%d: %q starts a group without a comment", DefaultClientsSource, i+1, ln)
			}
			prevBlank = false
		}
	}
}

func TestDefaultRecipients(t *testing.T) {
	l := DefaultRecipients()
	for _, a := range []string{"postmaster@example.com", "Abuse@example.org", "postmaster", "abuse+x@example.net"} {
		if _, ok := l.Match(a); !ok {
			t.Errorf("%q not exempt", a)
		}
	}
	for _, a := range []string{"info@example.com", "", "postmaster.example.com"} {
		if e, ok := l.Match(a); ok {
			t.Errorf("%q exempt by %q", a, e)
		}
	}
	if l.Len() != 2 {
		t.Errorf("Len = %d, want 2", l.Len())
	}
}
