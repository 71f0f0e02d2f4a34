package ratelimit

import (
	"strings"

	"github.com/tempfail/tempfail/internal/checks/greylist"
	"github.com/tempfail/tempfail/internal/policy"
)

// nullSender stands for the empty envelope sender (bounces) in keys.
const nullSender = "<>"

// subject builds the part of the store key that tells one counted thing
// from another: the values of the limit's key kinds joined by "|". ok is
// false when the request lacks a part (no sasl_username, no recipient):
// the limit does not apply to it.
func (l *limit) subject(r *policy.Request) (string, bool) {
	if len(l.cfg.Key) == 1 {
		return l.part(l.cfg.Key[0], r)
	}
	var b strings.Builder
	for i, k := range l.cfg.Key {
		p, ok := l.part(k, r)
		if !ok {
			return "", false
		}
		if i > 0 {
			b.WriteByte('|')
		}
		b.WriteString(p)
	}
	return b.String(), true
}

func (l *limit) part(kind string, r *policy.Request) (string, bool) {
	switch kind {
	case KeyClientAddress:
		if !r.Client.IsValid() {
			return r.ClientAddress, r.ClientAddress != ""
		}
		return r.Client.Unmap().String(), true
	case KeyClientNetwork:
		if !r.Client.IsValid() {
			return r.ClientAddress, r.ClientAddress != ""
		}
		return greylist.ClientNet(r.Client, l.cfg.IPv4Prefix, l.cfg.IPv6Prefix), true
	case KeySender:
		if r.Sender == "" {
			return nullSender, true
		}
		// One sender is one key: BATV, SRS and VERP numbers removed.
		return greylist.NormalizeSender(r.Sender), true
	case KeySenderDomain:
		if r.Sender == "" {
			return nullSender, true
		}
		return greylist.SenderDomain(r.Sender), true
	case KeyRecipient:
		return strings.ToLower(r.Recipient), r.Recipient != ""
	case KeyRecipientDomain:
		return domainOf(r.Recipient), r.Recipient != ""
	case KeySASLUsername:
		return r.SASLUsername, r.SASLUsername != ""
	}
	return "", false
}

// domainOf is the part after the last "@", lower case; an address without
// one is its own domain.
func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		addr = addr[i+1:]
	}
	return strings.ToLower(addr)
}

// cost is what a request counts under the limit's unit (see Validate for
// the states each unit is allowed at).
func (l *limit) cost(r *policy.Request) int64 {
	switch l.cfg.Count {
	case CountRecipients:
		if r.State == policy.StateRcpt {
			return 1 // one RCPT TO
		}
		return max(int64(r.RcptCount), 0)
	case CountBytes:
		return max(r.Size, 0)
	}
	return 1 // requests; messages at DATA / END-OF-MESSAGE
}
