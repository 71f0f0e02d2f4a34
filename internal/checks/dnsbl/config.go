package dnsbl

import (
	"context"
	"fmt"
	"strings"

	xl "github.com/tempfail/tempfail/internal/dnsbl"
	"github.com/tempfail/tempfail/internal/lists"
	"github.com/tempfail/tempfail/internal/reply"
	"github.com/tempfail/tempfail/internal/resolver"
)

// Config is the [dnsbl] section. docs/config.md documents every key.
type Config struct {
	// Sites are the lists, in Postfix's postscreen_dnsbl_sites syntax:
	// "zen.spamhaus.org*3", "list.dnswl.org=127.0.[0..255].[1..3]*-2".
	// Empty (the default): the check is off and no list is ever queried.
	// Public lists have usage terms (volume, commercial use, no public
	// resolvers), so choosing them is the admin's decision.
	Sites []string `toml:"sites"`
	// Threshold is the score at or above which a client is rejected,
	// postscreen_dnsbl_threshold's analogue.
	Threshold int `toml:"reject_threshold"`
	// Action at or above the threshold: "reject" (Code/Enhanced/Text),
	// "defer" (the same as a 4xx) or "log" (log and count, answer DUNNO).
	Action string `toml:"action"`
	// Code, Enhanced and Text are the reply; {ip} and {list} are filled
	// in ("550 5.7.1 Service unavailable; client [ip] blocked using list").
	Code     int    `toml:"reject_code"`
	Enhanced string `toml:"reject_enhanced"`
	Text     string `toml:"text"`
	// ReplyReason appends the list's TXT record (its listing reason,
	// usually a URL) after "; ", as Postfix's reject_rbl_client does. It
	// costs one more (cached) lookup per rejected client.
	ReplyReason bool `toml:"reply_reason"`
	// ReplyNames maps a site domain to the name shown in replies and logs
	// (postscreen_dnsbl_reply_map), for domains that carry an access key.
	ReplyNames map[string]string `toml:"reply_names"`
	// Clients and ClientFiles are never checked, in greylisting's client
	// list syntax (IPs, CIDRs, partial IPv4, names matched on the verified
	// client_name, /regex/).
	Clients     []string `toml:"clients"`
	ClientFiles []string `toml:"client_files"`

	sites []xl.Site // parsed Sites, set by Validate
}

// Defaults: off (no sites); once sites are set, reject at a score of 3
// with postscreen's reply and the list's reason.
func Defaults() Config {
	return Config{
		Threshold:   3,
		Action:      "reject",
		Code:        reply.CodeMailboxUnavailable,
		Enhanced:    reply.DNSBLEnhanced,
		Text:        reply.DNSBLText,
		ReplyReason: true,
	}
}

// Enabled reports whether any list is configured.
func (c *Config) Enabled() bool { return len(c.Sites) > 0 }

// SiteError is a sites entry that cannot be read; config turns Index
// into a line number.
type SiteError struct {
	Index int
	Entry string
	Err   error
}

func (e *SiteError) Error() string { return "dnsbl.sites: " + e.Err.Error() }

func (e *SiteError) Unwrap() error { return e.Err }

// Validate parses the sites and checks values that decode fine but make
// no sense.
func (c *Config) Validate() error {
	c.sites = c.sites[:0:0]
	positive := 0
	for i, s := range c.Sites {
		site, err := xl.ParseSite(s)
		if err != nil {
			return &SiteError{Index: i, Entry: s, Err: err}
		}
		c.sites = append(c.sites, site)
		if site.Weight > 0 {
			positive += site.Weight
		}
	}
	switch {
	case c.Threshold < 1:
		return fmt.Errorf("dnsbl.reject_threshold must be at least 1, got %d", c.Threshold)
	case c.Action != "reject" && c.Action != "defer" && c.Action != "log":
		return fmt.Errorf("dnsbl.action must be \"reject\", \"defer\" or \"log\", not %q", c.Action)
	case !reply.Valid(c.Code, c.Enhanced):
		return fmt.Errorf("dnsbl.reject_code %d and reject_enhanced %q must be a 4xx or 5xx code with an enhanced code of the same class", c.Code, c.Enhanced)
	case c.Text == "" || strings.ContainsAny(c.Text, "\r\n"):
		return fmt.Errorf("dnsbl.text must be one non-empty line")
	case positive > 0 && positive < c.Threshold:
		// A pasted Postfix list without weights ("zen.spamhaus.org") under
		// our threshold of 3 would never reject anyone: say so.
		return fmt.Errorf("dnsbl: the positive weights of sites add up to %d, below reject_threshold %d, so no client can ever reach it: give weights (\"zen.spamhaus.org*3\") or lower reject_threshold (Postfix's default postscreen_dnsbl_threshold is 1)", positive, c.Threshold)
	}
	if len(c.ReplyNames) > 0 && len(c.Sites) == 0 {
		return fmt.Errorf("dnsbl.reply_names without sites")
	}
	// Everything else the checker would refuse (reply names of domains
	// that are not sites, unprintable names), now rather than at start.
	if _, err := c.NewChecker(noLookups{}); err != nil {
		return err
	}
	return nil
}

// NewChecker returns the scorer of the configured sites, querying through
// r (the shared resolver); nil when no sites are configured. c must have
// passed Validate.
func (c *Config) NewChecker(r xl.Lookuper) (*xl.Checker, error) {
	if len(c.Sites) == 0 {
		return nil, nil
	}
	if len(c.sites) != len(c.Sites) {
		if err := c.Validate(); err != nil {
			return nil, err
		}
	}
	return xl.New(r, xl.Config{Sites: c.sites, ReplyNames: c.ReplyNames})
}

// LoadExemptions reads the client exemptions (at start and on SIGHUP).
func LoadExemptions(c Config) (*lists.ClientList, error) {
	in, err := lists.NewClientList(c.Clients)
	if err != nil {
		return nil, fmt.Errorf("dnsbl.clients: %w", err)
	}
	files, err := lists.LoadClientFiles(c.ClientFiles...)
	if err != nil {
		return nil, fmt.Errorf("dnsbl.client_files: %w", err)
	}
	return lists.MergeClients(in, files), nil
}

// noLookups lets Validate build a Checker without a resolver.
type noLookups struct{}

func (noLookups) LookupA(context.Context, string) (resolver.IPResult, error) {
	return resolver.IPResult{}, nil
}

func (noLookups) LookupTXT(context.Context, string) (resolver.TXTResult, error) {
	return resolver.TXTResult{}, nil
}
