package senderdomain

import (
	"fmt"
	"strings"

	"github.com/tempfail/tempfail/internal/reply"
)

// Config is the [senderdomain] section. docs/config.md documents every key.
type Config struct {
	Enabled bool `toml:"enabled"`
	// Code, Enhanced and Text answer a sender domain with neither MX nor
	// A/AAAA ("450 4.1.8 Domain not found"; some sites want 550 5.1.8).
	Code     int    `toml:"reject_code"`
	Enhanced string `toml:"reject_enhanced"`
	Text     string `toml:"text"`
	// NullMX* answer a domain that publishes a null MX (RFC 7505).
	NullMXCode     int    `toml:"null_mx_code"`
	NullMXEnhanced string `toml:"null_mx_enhanced"`
	NullMXText     string `toml:"null_mx_text"`
	// OnTempfail is "pass" (default: DUNNO, counted) or "defer" (answer
	// Code/Enhanced/Text as a 4xx) when DNS cannot tell now.
	OnTempfail string `toml:"on_tempfail"`
}

// Defaults: on, 450 4.1.8 Domain not found, 550 5.7.27 for null MX,
// temporary DNS trouble passes.
func Defaults() Config {
	return Config{
		Enabled:        true,
		Code:           reply.CodeMailboxBusy,
		Enhanced:       reply.SenderDomainEnhanced,
		Text:           reply.SenderDomainText,
		NullMXCode:     reply.CodeMailboxUnavailable,
		NullMXEnhanced: reply.NullMXEnhanced,
		NullMXText:     reply.NullMXText,
		OnTempfail:     "pass",
	}
}

// Validate checks values that decode fine but make no sense.
func (c *Config) Validate() error {
	switch {
	case !reply.Valid(c.Code, c.Enhanced):
		return fmt.Errorf("senderdomain.reject_code %d and reject_enhanced %q must be a 4xx or 5xx code with an enhanced code of the same class", c.Code, c.Enhanced)
	case !reply.Valid(c.NullMXCode, c.NullMXEnhanced):
		return fmt.Errorf("senderdomain.null_mx_code %d and null_mx_enhanced %q must be a 4xx or 5xx code with an enhanced code of the same class", c.NullMXCode, c.NullMXEnhanced)
	case c.OnTempfail != "pass" && c.OnTempfail != "defer":
		return fmt.Errorf("senderdomain.on_tempfail must be \"pass\" or \"defer\", not %q", c.OnTempfail)
	case c.Text == "" || c.NullMXText == "" || strings.ContainsAny(c.Text+c.NullMXText, "\r\n"):
		return fmt.Errorf("senderdomain.text and senderdomain.null_mx_text must be one non-empty line")
	}
	return nil
}
