package postfixtest

import (
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"time"
)

// outboundDisabled is the error(8) transport every non-virtual destination is
// routed to. The sandbox's resolver is not on loopback, so any smtp(8)
// delivery (including bounces to the test's made-up senders) would send DNS
// queries off the machine; error(8) fails such mail locally instead.
const outboundDisabled = "error:5.7.1 outbound mail disabled by postfixtest"

// mainCF returns main.cf parameters for an instance rooted at dir that
// delivers as mailUID:mailGID. Options.ExtraMainCF is applied last, so it
// overrides everything here. o must have its defaults filled in.
func (o Options) mainCF(dir, mailUID, mailGID string) (map[string]string, error) {
	p := map[string]string{
		// Debian's built-in compatibility_level is 0, which selects legacy
		// defaults and logs a backwards-compatibility warning per setting.
		"compatibility_level": "3.6",

		"queue_directory": dir + "/queue",
		// Owned by postfix (see Start): master.lock and the caches live here.
		"data_directory": dir + "/data",

		"inet_interfaces": "127.0.0.1",
		"inet_protocols":  "ipv4",

		// Set explicitly so Postfix never consults gethostname() or DNS to
		// derive them.
		"myhostname": "mx.tempfail.test",
		"mydomain":   "tempfail.test",
		"myorigin":   "$myhostname",

		// Nothing is a local(8) domain: no aliases database, no passwd
		// lookups, no local delivery. Empty alias_maps also stops the
		// default nis: lookup and the missing /etc/aliases.db error.
		"mydestination":        "",
		"local_recipient_maps": "",
		"alias_maps":           "",
		"alias_database":       "",
		"relay_domains":        "",

		"default_transport": outboundDisabled,
		"relay_transport":   outboundDisabled,

		"mynetworks": o.MyNetworks,

		// The sandbox resolver is off-machine; with the lookup off every
		// client is "unknown" and smtpd makes no DNS queries at all.
		"smtpd_peername_lookup": "no",
		// comsat notifications (UDP to localhost:biff) are local(8)'s, which
		// we never run; off anyway so no setting can turn them on.
		"biff": "no",

		// Postfix 3.4+: log through postlogd to the master's stdout, which is
		// the pipe the harness reads. No syslog daemon is needed.
		"maillog_file": "/dev/stdout",

		"virtual_mailbox_domains": o.VirtualDomain,
		"virtual_mailbox_base":    dir + "/mail",
		// A trailing slash selects Maildir; every recipient shares one, so
		// tests find all deliveries in one place (Delivered-To tells them
		// apart).
		"virtual_mailbox_maps": "static:" + maildirName + "/",
		"virtual_uid_maps":     "static:" + mailUID,
		"virtual_gid_maps":     "static:" + mailGID,

		"smtpd_helo_required":            "no",
		"smtpd_client_restrictions":      "",
		"smtpd_helo_restrictions":        "",
		"smtpd_sender_restrictions":      "",
		"smtpd_relay_restrictions":       "reject_unauth_destination",
		"smtpd_recipient_restrictions":   "reject_unauth_destination",
		"smtpd_data_restrictions":        "",
		"smtpd_end_of_data_restrictions": "",
	}

	if o.PolicyAddr != "" {
		svc, err := policyService(o.PolicyAddr)
		if err != nil {
			return nil, err
		}
		// Postfix 3.0+ per-service settings: default_action only applies to
		// this check, so tests can see how Postfix behaves when the policy
		// server is down without changing the global default (451 4.3.5).
		check := fmt.Sprintf("check_policy_service { %s, default_action=%s }", svc, o.PolicyDefaultAction)
		p["smtpd_recipient_restrictions"] = "reject_unauth_destination, " + check
		if o.PolicyAtData {
			p["smtpd_data_restrictions"] = check
		}
		if o.PolicyAtEndOfData {
			p["smtpd_end_of_data_restrictions"] = check
		}
	}
	if o.XCLIENT {
		p["smtpd_authorized_xclient_hosts"] = "127.0.0.1"
	}

	if len(o.Relays) > 0 {
		domains := make([]string, 0, len(o.Relays))
		for d := range o.Relays {
			domains = append(domains, d)
		}
		sort.Strings(domains)
		var routes []string
		for _, d := range domains {
			next, err := loopbackRelay(o.Relays[d])
			if err != nil {
				return nil, fmt.Errorf("Relays[%q]: %v", d, err)
			}
			if d == "" || strings.ContainsAny(d, " \t,{}=[]:") {
				return nil, fmt.Errorf("Relays: bad domain %q", d)
			}
			routes = append(routes, d+"=smtp:"+next)
		}
		p["relay_domains"] = strings.Join(domains, ", ")
		// inline: tables (Postfix 3.0+) need no postmap'ed file.
		p["transport_maps"] = "inline:{ " + strings.Join(routes, ", ") + " }"
		// The next hop is a bracketed IP address: no MX or A lookup is
		// needed, and none may leave the machine.
		p["smtp_dns_support_level"] = "disabled"
		p["smtp_host_lookup"] = "native"
		p["smtp_tls_security_level"] = "none"
	}
	for k, d := range map[string]struct {
		v   time.Duration
		min int
	}{
		"queue_run_delay":        {o.QueueRunDelay, 1},
		"minimal_backoff_time":   {o.MinimalBackoffTime, 1},
		"maximal_backoff_time":   {o.MaximalBackoffTime, 1},
		"maximal_queue_lifetime": {o.MaximalQueueLifetime, 0},
		"bounce_queue_lifetime":  {o.BounceQueueLifetime, 0},
	} {
		if d.v > 0 {
			p[k] = fmt.Sprintf("%ds", max(d.min, int(d.v.Seconds()+0.5)))
		}
	}
	for k, v := range o.ExtraMainCF {
		if k == "" || strings.ContainsAny(k, " \t\r\n=#") {
			return nil, fmt.Errorf("ExtraMainCF: bad parameter name %q", k)
		}
		p[k] = v
	}
	for k, v := range p {
		// main.cf continuation lines start with whitespace; a newline in a
		// value would silently turn into something else.
		if strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("main.cf %s: value contains a newline", k)
		}
	}
	return p, nil
}

// renderMainCF writes parameters sorted by name, one per line, so a dumped
// config diffs cleanly between runs and no name appears twice.
func renderMainCF(p map[string]string) string {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# Written by internal/testutil/postfixtest.\n")
	for _, k := range names {
		if v := p[k]; v == "" {
			fmt.Fprintf(&b, "%s =\n", k)
		} else {
			fmt.Fprintf(&b, "%s = %s\n", k, v)
		}
	}
	return b.String()
}

// masterCF lists only the services a receive-and-deliver-locally instance
// uses. Every service runs with chroot = n: a chrooted daemon would need
// copies of /etc files and libraries inside the private queue directory.
// smtp, lmtp, relay, verify, scache and tlsmgr are left out on purpose: with
// them absent Postfix cannot make an outbound connection even if a test's
// ExtraMainCF routes mail somewhere; such mail stays queued instead.
func masterCF(port int, extra []string) string {
	var b strings.Builder
	b.WriteString("# Written by internal/testutil/postfixtest.\n")
	b.WriteString("# service type  private unpriv  chroot  wakeup  maxproc command\n")
	fmt.Fprintf(&b, "127.0.0.1:%d inet n - n - - smtpd\n", port)
	b.WriteString(`pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
postlog   unix-dgram n  -       n       -       1       postlogd
`)
	for _, l := range extra {
		b.WriteString(l)
		b.WriteString("\n")
	}
	return b.String()
}

// smtpService is the smtp(8) client added to master.cf when Options.Relays
// routes mail to loopback servers.
const smtpService = "smtp      unix  -       -       n       -       -       smtp\nscache    unix  -       -       n       -       1       scache"

// loopbackRelay turns "127.0.0.1:PORT" into Postfix's "[127.0.0.1]:PORT"
// and refuses anything that is not IPv4 loopback.
func loopbackRelay(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.Is4() || !ip.IsLoopback() {
		return "", fmt.Errorf("%q: host must be an IPv4 loopback address", addr)
	}
	return "[" + host + "]:" + port, nil
}

// policyService turns Options.PolicyAddr into a Postfix policy endpoint and
// refuses anything that is not on loopback: the sandbox forbids other
// addresses, and a typo must not make Postfix connect elsewhere.
func policyService(addr string) (string, error) {
	switch {
	case strings.HasPrefix(addr, "unix:"):
		if !strings.HasPrefix(addr, "unix:/") {
			// A relative unix: path is resolved against the queue
			// directory, which a caller cannot know in advance.
			return "", fmt.Errorf("PolicyAddr %q: unix socket path must be absolute", addr)
		}
		return addr, nil
	case strings.HasPrefix(addr, "inet:"):
		addr = strings.TrimPrefix(addr, "inet:")
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("PolicyAddr %q: %v", addr, err)
	}
	if host != "localhost" {
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is4() || !ip.IsLoopback() {
			// inet_protocols = ipv4, so ::1 would not work either.
			return "", fmt.Errorf("PolicyAddr %q: host must be an IPv4 loopback address", addr)
		}
	}
	return "inet:" + net.JoinHostPort(host, port), nil
}
