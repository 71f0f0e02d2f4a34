package greylist

import (
	"net/netip"
	"strconv"
	"strings"
)

// ClientNet is the client part of the greylisting key: the client's network
// (/24 for IPv4, /64 for IPv6 by default) because large senders retry from a
// neighbouring address of the same pool. A prefix of 32 / 128 keys on the
// exact address. IPv4-mapped IPv6 addresses count as IPv4.
func ClientNet(ip netip.Addr, v4bits, v6bits int) string {
	if !ip.IsValid() {
		return "unknown"
	}
	ip = ip.Unmap()
	bits := v6bits
	if ip.Is4() {
		bits = v4bits
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return ip.String()
	}
	if p.Bits() == ip.BitLen() {
		return ip.String()
	}
	return p.String()
}

// NormalizeSender maps the envelope sender to the form used in the
// greylisting key, so that one sender is one key even when every message
// carries a different envelope address:
//
//   - lower case (local parts are case-sensitive in RFC 5321 section 2.4,
//     but no real system relies on it for the same sender);
//   - BATV (draft-levine-smtp-batv): "prvs=TAG=user@d" -> "user@d", also
//     "msprvs1=TAG=user@d" and "btv1==TAG==user@d";
//   - SRS (Sender Rewriting Scheme): "SRS0=HH=TT=orig.dom=orig-local@fwd"
//     -> "orig-local@orig.dom"; SRS1 chains are followed to the original;
//   - VERP-style per-message numbers: each all-digit token of the local
//     part, and each long hex or mixed id token, becomes "#", as postgrey
//     does ("bounce-12345-678@d" -> "bounce-#-#@d").
//
// The null sender stays empty.
func NormalizeSender(s string) string {
	if s == "" {
		return ""
	}
	s = strings.ToLower(s)
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return verp(s)
	}
	local, domain := s[:at], s[at+1:]
	local = stripBATV(local)
	if l, d, ok := unSRS(local); ok {
		local, domain = stripBATV(l), d
	}
	return verp(local) + "@" + domain
}

// SenderDomain is the domain of NormalizeSender(s), lower case, without
// building the normalised address: only SRS changes the domain.
func SenderDomain(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return strings.ToLower(s)
	}
	if wrapped(s) {
		if _, d, ok := unSRS(stripBATV(strings.ToLower(s[:at]))); ok {
			return strings.ToLower(d)
		}
	}
	return strings.ToLower(s[at+1:])
}

// wrapped reports whether s may carry BATV or SRS wrapping: both need a '='
// in the local part, and most senders have none.
func wrapped(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.IndexByte(s[:at], '=') >= 0
}

// unwrapSender removes BATV and SRS wrapping but keeps everything else,
// for matching a sender against exemption lists.
func unwrapSender(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return s
	}
	local, domain := strings.ToLower(s[:at]), s[at+1:]
	local = stripBATV(local)
	if l, d, ok := unSRS(local); ok {
		local, domain = stripBATV(l), d
	}
	return local + "@" + domain
}

// stripBATV removes a BATV tag from the local part.
func stripBATV(local string) string {
	switch {
	case strings.HasPrefix(local, "prvs="), strings.HasPrefix(local, "msprvs1="):
		// prvs=<tag>=<local>; the tag never contains '='.
		rest := local[strings.IndexByte(local, '=')+1:]
		if i := strings.IndexByte(rest, '='); i >= 0 && i+1 < len(rest) {
			return rest[i+1:]
		}
	case strings.HasPrefix(local, "btv1=="):
		rest := local[len("btv1=="):]
		if i := strings.Index(rest, "=="); i >= 0 && i+2 < len(rest) {
			return rest[i+2:]
		}
	}
	return local
}

// unSRS decodes an SRS0 or SRS1 local part into the original sender.
//
//	SRS0=HHH=TT=orig-domain=orig-local
//	SRS1=HHH=first-forwarder==HHH=TT=orig-domain=orig-local
//
// The separator after SRS0/SRS1 may be '=', '+' or '-' (libsrs2 accepts all).
func unSRS(local string) (l, d string, ok bool) {
	if len(local) < 5 || (local[:4] != "srs0" && local[:4] != "srs1") {
		return "", "", false
	}
	if c := local[4]; c != '=' && c != '+' && c != '-' {
		return "", "", false
	}
	body := local[5:]
	if local[:4] == "srs1" {
		i := strings.Index(body, "==")
		if i < 0 {
			return "", "", false
		}
		body = body[i+2:]
	}
	// HHH=TT=orig-domain=orig-local; orig-local may itself contain '='.
	parts := strings.SplitN(body, "=", 4)
	if len(parts) != 4 || parts[2] == "" || parts[3] == "" {
		return "", "", false
	}
	return parts[3], parts[2], true
}

// verp replaces per-message tokens in a local part with '#'. It allocates
// only when something is replaced.
func verp(local string) string {
	var b []byte
	start := 0
	for i := 0; i <= len(local); i++ {
		if i < len(local) && !isSep(local[i]) {
			continue
		}
		if tok := local[start:i]; perMessage(tok) {
			if b == nil {
				b = make([]byte, 0, len(local))
				b = append(b, local[:start]...)
			}
			b = append(b, '#')
		} else if b != nil {
			b = append(b, tok...)
		}
		if b != nil && i < len(local) {
			b = append(b, local[i])
		}
		start = i + 1
	}
	if b == nil {
		return local
	}
	return string(b)
}

func isSep(c byte) bool {
	switch c {
	case '-', '.', '_', '=', '+':
		return true
	}
	return false
}

// perMessage reports whether a local-part token looks like a per-message
// number or id rather than a name: all digits, a hex string of 4 or more
// characters containing a digit, or a long letters-and-digits id with many
// digits (Amazon SES, SendGrid, Mailchimp bounce addresses).
func perMessage(tok string) bool {
	if tok == "" {
		return false
	}
	digits, hex := 0, true
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c >= 'a' && c <= 'f':
		case c >= 'g' && c <= 'z':
			hex = false
		default:
			return false
		}
	}
	switch {
	case digits == len(tok):
		return true
	case hex && digits > 0 && len(tok) >= 4:
		return true
	case len(tok) >= 16 && digits >= 4:
		return true
	}
	return false
}

// tripletKey is the store key for (client network, sender, recipient).
// NUL cannot occur in any of the three parts (the policy codec rejects it).
func tripletKey(net, sender, rcpt string) string {
	return "g\x00" + net + "\x00" + capPart(sender) + "\x00" + capPart(strings.ToLower(rcpt))
}

// maxPart bounds each address in a key. RFC 5321 section 4.5.3.1 limits a
// path to 256 octets; Postfix never sends more, but anyone who can reach
// the policy port can, and an oversized key must not turn into a store
// error (and an on_error answer) for the asking.
const maxPart = 512

func capPart(s string) string {
	if len(s) > maxPart {
		return s[:maxPart]
	}
	return s
}

// allowKey is the store key of a client network's auto-allowlist record.
func allowKey(net string) string { return "a\x00" + net }

// fill replaces {seconds} in a configured text.
func fill(tmpl string, seconds int64) string {
	return strings.ReplaceAll(tmpl, "{seconds}", strconv.FormatInt(seconds, 10))
}
