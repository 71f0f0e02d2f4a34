package dnsbl

import (
	"context"
	"net/netip"
	"strings"

	"github.com/tempfail/tempfail/internal/reply"
	"github.com/tempfail/tempfail/internal/resolver"
)

// The reply postscreen(8) gives a client whose score reaches
// postscreen_dnsbl_threshold with postscreen_dnsbl_action = enforce:
//
//	550 5.7.1 Service unavailable; client [203.0.113.7] blocked using zen.spamhaus.org
//
// RFC 3463 X.7.1: delivery not authorized, message refused. The
// catalogue of replies (internal/reply, DNSBL*) is where they are spelled.
const (
	RejectCode     = reply.CodeMailboxUnavailable
	RejectEnhanced = reply.DNSBLEnhanced
	// RejectTemplate has {ip}, the client address, and {list}, the list
	// (Hit.List).
	RejectTemplate = reply.DNSBLText
)

// maxReason bounds the listing reason put into a reply, leaving room
// within the 512 octets of an SMTP reply line (RFC 5321 section 4.5.3.1.5).
const maxReason = 200

// RejectText returns the reply text (without code and enhanced code) for a
// client rejected because of list, the List of Result.BlockedBy. A
// non-empty reason (from Checker.Reason) is appended after "; ", as
// reject_rbl_client does with the list's TXT record.
func RejectText(ip netip.Addr, list, reason string) string {
	return FillText(RejectTemplate, ip, list, reason)
}

// FillText is RejectText with another template ({ip}, {list}; a
// configured reply text).
func FillText(tmpl string, ip netip.Addr, list, reason string) string {
	var b strings.Builder
	b.Grow(len(tmpl) + len(list) + 40 + len(reason))
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			b.WriteString(tmpl)
			break
		}
		b.WriteString(tmpl[:i])
		tmpl = tmpl[i:]
		switch {
		case strings.HasPrefix(tmpl, "{ip}"):
			b.WriteString(ip.Unmap().WithZone("").String())
			tmpl = tmpl[len("{ip}"):]
		case strings.HasPrefix(tmpl, "{list}"):
			b.WriteString(list)
			tmpl = tmpl[len("{list}"):]
		default:
			b.WriteByte('{')
			tmpl = tmpl[1:]
		}
	}
	if reason = Sanitize(reason); reason != "" {
		b.WriteString("; ")
		b.WriteString(reason)
	}
	return b.String()
}

// Reason looks up the TXT record published with hit (RFC 5782 section
// 2.1: lists should publish one, typically with a URL explaining the
// listing) and returns it sanitized for an SMTP reply, or "" when there is
// none or it cannot be had in time. It is meant to be called only when a
// reply is actually sent: it costs a query unless cached. Several records
// are joined with " / ".
func (c *Checker) Reason(ctx context.Context, hit Hit) string {
	if hit.zone == nil {
		return ""
	}
	res, err := c.r.LookupTXT(ctx, hit.prefix+hit.zone.domain)
	if err != nil || res.Status != resolver.Found {
		return ""
	}
	var parts []string
	n := 0
	for _, r := range res.Records {
		r = Sanitize(r)
		if r == "" {
			continue
		}
		parts = append(parts, r)
		if n += len(r) + 3; n >= maxReason {
			break
		}
	}
	return Sanitize(strings.Join(parts, " / "))
}

// Sanitize makes text from DNS safe to put in an SMTP reply and in the
// policy protocol's one-line answer: anything but printable ASCII becomes
// a space (a CR or LF would end the reply, and the policy response, early),
// runs of spaces collapse, and the result is cut to 200 bytes.
func Sanitize(s string) string {
	var b strings.Builder
	space := false
	for i := 0; i < len(s) && b.Len() < maxReason; i++ {
		c := s[i]
		if c <= ' ' || c > '~' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
			if b.Len() >= maxReason {
				break
			}
		}
		b.WriteByte(c)
	}
	return strings.TrimRight(b.String(), " ")
}
