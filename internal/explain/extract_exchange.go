package explain

import "strings"

// extractExchangeLED handles the Exchange / Exchange Online queue and
// message-trace diagnostic string:
//
//	Reason: [{LED=450 4.7.1 : Recipient address rejected: ...};{MSG=};{FQDN=mx.b};{IP=1.2.3.4};{LRT=9/12/2023 4:46:17 AM}]
//
// LED is the last error seen from the next hop, FQDN/IP the host that gave
// it, MSG an optional Exchange-side message.
func extractExchangeLED(s, lower string) Parsed {
	p := Parsed{Format: "exchange"}
	led := braceField(s, lower, "{led=")
	msg := braceField(s, lower, "{msg=")
	fqdn := braceField(s, lower, "{fqdn=")
	ip := braceField(s, lower, "{ip=")
	text := led
	if strings.TrimSpace(text) == "" {
		text = msg
	}
	r := extractReply(text)
	p.Code, p.Enhanced, p.Text = r.Code, r.Enhanced, r.Text
	if msg != "" && led != "" {
		p.Text = strings.TrimSpace(p.Text + " " + msg)
	}
	switch {
	case fqdn != "" && ip != "":
		p.Remote = fqdn + "[" + ip + "]"
	case fqdn != "":
		p.Remote = fqdn
	case ip != "":
		p.Remote = "[" + ip + "]"
	}
	return p
}

// braceField returns the value of "{name=value}" ("" if absent).
func braceField(s, lower, name string) string {
	i := strings.Index(lower, name)
	if i < 0 {
		return ""
	}
	v := s[i+len(name):]
	if j := strings.Index(v, "};"); j >= 0 {
		return v[:j]
	}
	if j := strings.LastIndexByte(v, '}'); j >= 0 {
		return v[:j]
	}
	return v
}
