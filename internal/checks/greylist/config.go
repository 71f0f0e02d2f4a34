package greylist

import (
	"fmt"
	"strings"
	"time"

	"github.com/tempfail/tempfail/internal/duration"
	"github.com/tempfail/tempfail/internal/reply"
)

// Config is the [greylist] section of the config file. docs/config.md
// documents every key; Defaults gives postgrey's values.
type Config struct {
	Enabled bool `toml:"enabled"`
	// Delay is how long a new triplet must wait before a retry passes.
	Delay duration.Duration `toml:"delay"`
	// RetryWindow is how long after first sight a retry is still accepted;
	// later, the triplet starts over.
	RetryWindow duration.Duration `toml:"retry_window"`
	// MaxAge forgets a passed triplet, and an auto-allowlisted network,
	// after this long without mail.
	MaxAge duration.Duration `toml:"max_age"`
	// AutoAllowlist is K: a client network that passed greylisting K times
	// (at most one counted per AutoAllowlistInterval) is not greylisted
	// any more. 0 turns the auto-allowlist off.
	AutoAllowlist         int               `toml:"auto_allowlist"`
	AutoAllowlistInterval duration.Duration `toml:"auto_allowlist_interval"`
	// DeferAt is "rcpt" (per recipient, postgrey compatible) or "data"
	// (the whole message is deferred at DATA if any recipient is still
	// greylisted; needs the policy in smtpd_data_restrictions too).
	DeferAt string `toml:"defer_at"`
	// IPv4Prefix and IPv6Prefix size the client network in the key
	// (32 / 128: the exact address).
	IPv4Prefix int `toml:"ipv4_prefix"`
	IPv6Prefix int `toml:"ipv6_prefix"`
	// Text of the deferral; {seconds} is the real time left.
	Text string `toml:"text"`
	// AddHeader prepends Header on the first pass; {seconds} is the delay.
	AddHeader bool   `toml:"add_header"`
	Header    string `toml:"header"`
	// MaxPendingPerNetwork caps the triplets one client network may have
	// waiting for a retry, so a spam run of unique triplets cannot grow the
	// store without bound. Beyond it requests are still deferred, just not
	// remembered.
	MaxPendingPerNetwork int `toml:"max_pending_per_network"`

	// KeyBy is how the client is identified in the key and the
	// auto-allowlist, first match wins: "spf" (the sender's domain when SPF
	// passes for it), "fcrdns" (the organisational domain of a
	// forward-confirmed, non-generic PTR name), "network". A temporary DNS
	// failure falls through to the next; "network" is always the last
	// resort. Records keyed by network before still match.
	KeyBy []string `toml:"key_by"`
	// RiskBased greylists only clients whose risk (facts.Risk plus "new")
	// reaches RiskThreshold; clean, identified senders are not delayed.
	RiskBased     bool `toml:"risk_based"`
	RiskThreshold int  `toml:"risk_threshold"`

	// Exemptions. Lists are merged: inline entries plus files (postgrey's
	// whitelist format accepted), re-read on SIGHUP.
	DefaultClients bool     `toml:"default_clients"`
	Clients        []string `toml:"clients"`
	ClientFiles    []string `toml:"client_files"`
	Senders        []string `toml:"senders"`
	SenderFiles    []string `toml:"sender_files"`
	Recipients     []string `toml:"recipients"`
	RecipientFiles []string `toml:"recipient_files"`
}

// Defaults returns postgrey's defaults: 300 s delay, 2-day retry window,
// 35-day max age, auto-allowlist after 5 passes.
func Defaults() Config {
	return Config{
		Enabled:               true,
		Delay:                 duration.Duration(300 * time.Second),
		RetryWindow:           duration.Duration(48 * time.Hour),
		MaxAge:                duration.Duration(35 * 24 * time.Hour),
		AutoAllowlist:         5,
		AutoAllowlistInterval: duration.Duration(time.Hour),
		DeferAt:               "rcpt",
		IPv4Prefix:            24,
		IPv6Prefix:            64,
		Text:                  strings.ReplaceAll(reply.GreylistText, "%d", "{seconds}"),
		AddHeader:             true,
		Header:                strings.ReplaceAll(reply.GreylistHeader, "%d", "{seconds}"),
		MaxPendingPerNetwork:  10000,
		KeyBy:                 []string{KeySPF, KeyFCrDNS, KeyNetwork},
		RiskThreshold:         3,
		DefaultClients:        true,
		Recipients:            []string{"postmaster@", "abuse@"},
	}
}

// Validate checks values that decode fine but make no sense.
func (c *Config) Validate() error {
	switch {
	case c.Delay.D() <= 0:
		return fmt.Errorf("greylist.delay must be positive")
	case c.RetryWindow.D() <= c.Delay.D():
		return fmt.Errorf("greylist.retry_window (%s) must be longer than greylist.delay (%s)", c.RetryWindow, c.Delay)
	case c.MaxAge.D() < c.RetryWindow.D():
		return fmt.Errorf("greylist.max_age (%s) must be at least greylist.retry_window (%s)", c.MaxAge, c.RetryWindow)
	case c.AutoAllowlist < 0:
		return fmt.Errorf("greylist.auto_allowlist must be 0 (off) or more")
	case c.AutoAllowlistInterval.D() < 0:
		return fmt.Errorf("greylist.auto_allowlist_interval must not be negative")
	case c.DeferAt != "rcpt" && c.DeferAt != "data":
		return fmt.Errorf("greylist.defer_at must be \"rcpt\" or \"data\", not %q", c.DeferAt)
	case c.IPv4Prefix < 8 || c.IPv4Prefix > 32:
		return fmt.Errorf("greylist.ipv4_prefix must be between 8 and 32, not %d", c.IPv4Prefix)
	case c.IPv6Prefix < 16 || c.IPv6Prefix > 128:
		return fmt.Errorf("greylist.ipv6_prefix must be between 16 and 128, not %d", c.IPv6Prefix)
	case c.MaxPendingPerNetwork < 1:
		return fmt.Errorf("greylist.max_pending_per_network must be at least 1")
	case strings.ContainsAny(c.Text, "\r\n") || strings.ContainsAny(c.Header, "\r\n"):
		return fmt.Errorf("greylist.text and greylist.header must be one line")
	case c.AddHeader && !strings.Contains(c.Header, ":"):
		return fmt.Errorf("greylist.header must look like \"Name: value\", got %q", c.Header)
	case c.RiskThreshold < 1:
		return fmt.Errorf("greylist.risk_threshold must be at least 1")
	}
	seen := map[string]bool{}
	for _, k := range c.KeyBy {
		switch k {
		case KeySPF, KeyFCrDNS, KeyNetwork:
		default:
			return fmt.Errorf("greylist.key_by: unknown way %q (want \"spf\", \"fcrdns\", \"network\")", k)
		}
		if seen[k] {
			return fmt.Errorf("greylist.key_by: %q given twice", k)
		}
		seen[k] = true
	}
	return nil
}
