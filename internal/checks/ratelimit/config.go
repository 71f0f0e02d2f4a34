package ratelimit

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	gcra "github.com/tempfail/tempfail/internal/ratelimit"
	"github.com/tempfail/tempfail/internal/reply"
)

// Config is the [ratelimit] section: a switch for all limits and the list
// of limits, one [[ratelimit.limit]] table each. docs/config.md documents
// every key.
type Config struct {
	// Enabled turns every limit on or off at once (default true; with no
	// limit declared the check is not in the chain at all).
	Enabled bool    `toml:"enabled"`
	Limits  []Limit `toml:"limit"`
}

// Limit is one [[ratelimit.limit]] table. Validate fills in the defaults of
// the keys left out.
type Limit struct {
	// Name identifies the limit in logs, metrics, replies and store keys.
	Name string `toml:"name"`
	// Key is what is counted separately: one or more of the Key* names,
	// e.g. ["client_address"] or ["client_network", "sender_domain"].
	Key []string `toml:"key"`
	// Count is the unit: requests, messages, recipients or bytes ("size").
	Count string `toml:"count"`
	// State is the protocol state the limit is applied at: rcpt, data or
	// end-of-message (default).
	State string `toml:"state"`
	// Rate is "N/period": "2/h", "100/d".
	Rate gcra.Rate `toml:"rate"`
	// Burst is how many units may pass at once after a quiet time;
	// 0 means the rate's count (gcra.DefaultBurst).
	Burst int64 `toml:"burst"`
	// Scope: all, new (clients not yet trusted) or authenticated
	// (sasl_username set).
	Scope string `toml:"scope"`
	// Action when over the limit: defer (450 4.7.1), hold, reject
	// (550 5.7.1) or log. Default: hold for scope authenticated, defer
	// otherwise.
	Action string `toml:"action"`
	// Mode: enforce (default) or observe (count and log, never change the
	// answer).
	Mode string `toml:"mode"`
	// Text of the reply (defer, reject) or of the HOLD reason. Placeholders:
	// {rate} {wait} {seconds} {name} {key} {user}. Default by scope.
	Text string `toml:"text"`
	// NeverText is the reply when one message alone is more than the
	// burst ({cost} and {burst} are added to the placeholders).
	NeverText string `toml:"never_text"`
	// Exemptions: client addresses or networks, SASL user names, sender
	// domains (subdomains included).
	ExemptClients []string `toml:"exempt_clients"`
	ExemptUsers   []string `toml:"exempt_users"`
	ExemptDomains []string `toml:"exempt_domains"`
	// IPv4Prefix and IPv6Prefix size client_network (default /24, /64).
	IPv4Prefix int `toml:"ipv4_prefix"`
	IPv6Prefix int `toml:"ipv6_prefix"`
}

// Key kinds.
const (
	KeyClientAddress   = "client_address"
	KeyClientNetwork   = "client_network"
	KeySender          = "sender"
	KeySenderDomain    = "sender_domain"
	KeyRecipient       = "recipient"
	KeyRecipientDomain = "recipient_domain"
	KeySASLUsername    = "sasl_username"
)

// Counting units.
const (
	CountRequests   = "requests"
	CountMessages   = "messages"
	CountRecipients = "recipients"
	CountBytes      = "bytes"
)

// States, scopes, actions and modes.
const (
	StateRcpt         = "rcpt"
	StateData         = "data"
	StateEndOfMessage = "end-of-message"

	ScopeAll           = "all"
	ScopeNew           = "new"
	ScopeAuthenticated = "authenticated"

	ActionDefer  = "defer"
	ActionHold   = "hold"
	ActionReject = "reject"
	ActionLog    = "log"

	ModeEnforce = "enforce"
	ModeObserve = "observe"
)

var keyKinds = []string{KeyClientAddress, KeyClientNetwork, KeySender, KeySenderDomain, KeyRecipient, KeyRecipientDomain, KeySASLUsername}

// Defaults is the [ratelimit] section with no file: enabled, no limits.
func Defaults() Config { return Config{Enabled: true} }

// LimitError is a problem with one limit: Index is its position in the
// list (0-based), Key the offending key ("" for the limit as a whole), so
// the config loader can name the line.
type LimitError struct {
	Index int
	Name  string
	Key   string
	Err   error
}

func (e *LimitError) Error() string {
	where := fmt.Sprintf("ratelimit.limit[%d]", e.Index)
	if e.Name != "" {
		where += fmt.Sprintf(" (%q)", e.Name)
	}
	if e.Key != "" {
		where += "." + e.Key
	}
	return where + ": " + e.Err.Error()
}

func (e *LimitError) Unwrap() error { return e.Err }

// Validate fills in defaults and checks every limit. It is idempotent.
func (c *Config) Validate() error {
	seen := map[string]int{}
	for i := range c.Limits {
		l := &c.Limits[i]
		if err := l.validate(); err != nil {
			var le *LimitError
			if errors.As(err, &le) {
				le.Index, le.Name = i, l.Name
				return le
			}
			return &LimitError{Index: i, Name: l.Name, Err: err}
		}
		if j, dup := seen[l.Name]; dup {
			return &LimitError{Index: i, Name: l.Name, Key: "name", Err: fmt.Errorf("name %q is already used by limit %d; names must be unique (they are part of the store key)", l.Name, j)}
		}
		for name, j := range seen {
			if gcra.SameID(name, l.Name) {
				return &LimitError{Index: i, Name: l.Name, Key: "name", Err: fmt.Errorf("name %q has the same store id as limit %d (%q), a one in four billion chance: rename one", l.Name, j, name)}
			}
		}
		seen[l.Name] = i
	}
	return nil
}

func keyErr(key, format string, a ...any) error {
	return &LimitError{Key: key, Err: fmt.Errorf(format, a...)}
}

func (l *Limit) validate() error {
	if l.Name == "" {
		return keyErr("name", "every limit needs a name")
	}
	for _, r := range l.Name {
		if !(r == '-' || r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return keyErr("name", "name %q: use letters, digits, '-', '_' and '.'", l.Name)
		}
	}
	if len(l.Key) == 0 {
		return keyErr("key", "missing: what to count separately, one or more of %s", strings.Join(keyKinds, ", "))
	}
	seen := map[string]bool{}
	for i, k := range l.Key {
		k = strings.ToLower(strings.TrimSpace(k))
		if !contains(keyKinds, k) {
			return keyErr("key", "unknown key %q; use %s", l.Key[i], strings.Join(keyKinds, ", "))
		}
		if seen[k] {
			return keyErr("key", "%q appears twice", k)
		}
		seen[k] = true
		l.Key[i] = k
	}
	l.Count = strings.ToLower(strings.TrimSpace(l.Count))
	switch l.Count {
	case "":
		l.Count = CountMessages
	case "size":
		l.Count = CountBytes
	case "connections", "request":
		l.Count = CountRequests
	case "message":
		l.Count = CountMessages
	case "recipient", "rcpts":
		l.Count = CountRecipients
	case CountRequests, CountMessages, CountRecipients, CountBytes:
	default:
		return keyErr("count", "%q: use requests, messages, recipients or bytes", l.Count)
	}
	l.State = strings.ToLower(strings.TrimSpace(l.State))
	switch l.State {
	case "":
		l.State = StateEndOfMessage
	case "rcpt", "rcpt to":
		l.State = StateRcpt
	case "eom", "end_of_message", "end-of-data", "end_of_data":
		l.State = StateEndOfMessage
	case StateData, StateEndOfMessage:
	default:
		return keyErr("state", "%q: use rcpt, data or end-of-message", l.State)
	}
	switch {
	case l.Count == CountMessages && l.State == StateRcpt:
		return keyErr("count", `"messages" at state "rcpt" would count recipients (Postfix asks once per RCPT TO); use state = "end-of-message" (or "data") to count messages, or count = "recipients"`)
	case l.Count == CountBytes && l.State != StateEndOfMessage:
		return keyErr("count", `"bytes" needs state = "end-of-message": only there does Postfix send the real size (before, size is what the client declared, often 0)`)
	case l.State != StateRcpt && (seen[KeyRecipient] || seen[KeyRecipientDomain]):
		return keyErr("key", `recipient and recipient_domain keys need state = "rcpt": at DATA and END-OF-MESSAGE Postfix sends the recipient only for single-recipient messages`)
	}
	if l.Rate == (gcra.Rate{}) {
		return keyErr("rate", `missing: for example rate = "2/h" or "100/d"`)
	}
	if l.Burst == 0 {
		l.Burst = gcra.DefaultBurst(l.Rate)
	}
	if _, err := gcra.NewLimit(l.Rate, l.Burst); err != nil {
		return keyErr("burst", "%v", strings.TrimPrefix(err.Error(), "ratelimit: "))
	}
	l.Scope = strings.ToLower(strings.TrimSpace(l.Scope))
	switch l.Scope {
	case "":
		l.Scope = ScopeAll
	case ScopeAll, ScopeNew, ScopeAuthenticated:
	default:
		return keyErr("scope", "%q: use all, new or authenticated", l.Scope)
	}
	if seen[KeySASLUsername] && l.Scope == ScopeNew {
		return keyErr("key", `sasl_username with scope = "new" never matches: authenticated clients are never new`)
	}
	l.Action = strings.ToLower(strings.TrimSpace(l.Action))
	switch l.Action {
	case "":
		l.Action = ActionDefer
		if l.Scope == ScopeAuthenticated {
			l.Action = ActionHold
		}
	case ActionDefer, ActionHold, ActionReject, ActionLog:
	default:
		return keyErr("action", "%q: use defer, hold, reject or log", l.Action)
	}
	l.Mode = strings.ToLower(strings.TrimSpace(l.Mode))
	switch l.Mode {
	case "":
		l.Mode = ModeEnforce
	case ModeEnforce, ModeObserve:
	default:
		return keyErr("mode", "%q: use enforce or observe", l.Mode)
	}
	if l.Text == "" {
		l.Text = defaultText(l)
	}
	if l.NeverText == "" {
		switch l.Count {
		case CountBytes:
			l.NeverText = reply.RateLimitNeverBytesText
		case CountRecipients:
			l.NeverText = reply.RateLimitNeverRcptsText
		default:
			l.NeverText = reply.RateLimitNeverText
		}
	}
	if strings.ContainsAny(l.Text, "\r\n") || strings.ContainsAny(l.NeverText, "\r\n") {
		return keyErr("text", "must be one line")
	}
	for _, c := range l.ExemptClients {
		if _, err := parseClient(c); err != nil {
			return keyErr("exempt_clients", "%v", err)
		}
	}
	for i, d := range l.ExemptDomains {
		d = strings.ToLower(strings.Trim(strings.TrimSpace(d), "."))
		if d == "" || strings.ContainsAny(d, "@ \t") {
			return keyErr("exempt_domains", "%q is not a domain", l.ExemptDomains[i])
		}
		l.ExemptDomains[i] = d
	}
	if l.IPv4Prefix == 0 {
		l.IPv4Prefix = 24
	}
	if l.IPv6Prefix == 0 {
		l.IPv6Prefix = 64
	}
	if l.IPv4Prefix < 8 || l.IPv4Prefix > 32 {
		return keyErr("ipv4_prefix", "must be between 8 and 32, not %d", l.IPv4Prefix)
	}
	if l.IPv6Prefix < 16 || l.IPv6Prefix > 128 {
		return keyErr("ipv6_prefix", "must be between 16 and 128, not %d", l.IPv6Prefix)
	}
	return nil
}

func defaultText(l *Limit) string {
	switch {
	case l.Action == ActionHold && (l.Scope == ScopeAuthenticated || contains(l.Key, KeySASLUsername)):
		return reply.RateLimitHoldUserText
	case l.Action == ActionHold:
		return reply.RateLimitHoldClientText
	case l.Action == ActionReject:
		return reply.RateLimitRejectText
	case l.Scope == ScopeNew:
		return reply.RateLimitNewText
	case l.Scope == ScopeAuthenticated:
		return reply.RateLimitAuthenticatedText
	}
	return reply.RateLimitText
}

// parseClient reads an exempt_clients entry: an address or a CIDR.
func parseClient(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
