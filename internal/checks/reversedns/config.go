package reversedns

import (
	"fmt"
	"strings"

	"github.com/tempfail/tempfail/internal/lists"
	"github.com/tempfail/tempfail/internal/reply"
)

// Config is the [reversedns] section. docs/config.md documents every key.
type Config struct {
	// Mode is "off", "warn" (default: log and count, answer DUNNO) or
	// "enforce" (defer clients without forward-confirmed reverse DNS).
	Mode string `toml:"mode"`
	// NoPTR* answer a client whose address has no PTR record at all.
	NoPTRCode     int    `toml:"no_ptr_code"`
	NoPTREnhanced string `toml:"no_ptr_enhanced"`
	NoPTRText     string `toml:"no_ptr_text"`
	// Mismatch* answer a client whose PTR names do not resolve back to it.
	MismatchCode     int    `toml:"mismatch_code"`
	MismatchEnhanced string `toml:"mismatch_enhanced"`
	MismatchText     string `toml:"mismatch_text"`
	// OnTempfail is "pass" (default) or "defer" (answer as for no PTR).
	OnTempfail string `toml:"on_tempfail"`
	// Clients and ClientFiles exempt clients, in greylisting's client list
	// syntax (IPs, CIDRs, partial IPv4, names matched on the verified
	// client_name, /regex/).
	Clients     []string `toml:"clients"`
	ClientFiles []string `toml:"client_files"`
}

// Defaults: warn only. Many legitimate small senders still lack matching
// reverse DNS, and a 450 for them is a silent multi-day delay, so
// enforcing is the admin's choice; warn makes the numbers visible first.
func Defaults() Config {
	return Config{
		Mode:             "warn",
		NoPTRCode:        reply.CodeMailboxBusy,
		NoPTREnhanced:    reply.NoPTREnhanced,
		NoPTRText:        reply.NoPTRText,
		MismatchCode:     reply.CodeMailboxBusy,
		MismatchEnhanced: reply.RDNSMismatchEnhanced,
		MismatchText:     reply.RDNSMismatchText,
		OnTempfail:       "pass",
	}
}

// Validate checks values that decode fine but make no sense.
func (c *Config) Validate() error {
	switch {
	case c.Mode != "off" && c.Mode != "warn" && c.Mode != "enforce":
		return fmt.Errorf("reversedns.mode must be \"off\", \"warn\" or \"enforce\", not %q", c.Mode)
	case !reply.Valid(c.NoPTRCode, c.NoPTREnhanced):
		return fmt.Errorf("reversedns.no_ptr_code %d and no_ptr_enhanced %q must be a 4xx or 5xx code with an enhanced code of the same class", c.NoPTRCode, c.NoPTREnhanced)
	case !reply.Valid(c.MismatchCode, c.MismatchEnhanced):
		return fmt.Errorf("reversedns.mismatch_code %d and mismatch_enhanced %q must be a 4xx or 5xx code with an enhanced code of the same class", c.MismatchCode, c.MismatchEnhanced)
	case c.OnTempfail != "pass" && c.OnTempfail != "defer":
		return fmt.Errorf("reversedns.on_tempfail must be \"pass\" or \"defer\", not %q", c.OnTempfail)
	case c.NoPTRText == "" || c.MismatchText == "" || strings.ContainsAny(c.NoPTRText+c.MismatchText, "\r\n"):
		return fmt.Errorf("reversedns.no_ptr_text and reversedns.mismatch_text must be one non-empty line")
	}
	return nil
}

// LoadExemptions reads the client exemptions (at start and on SIGHUP).
func LoadExemptions(c Config) (*lists.ClientList, error) {
	in, err := lists.NewClientList(c.Clients)
	if err != nil {
		return nil, fmt.Errorf("reversedns.clients: %w", err)
	}
	files, err := lists.LoadClientFiles(c.ClientFiles...)
	if err != nil {
		return nil, fmt.Errorf("reversedns.client_files: %w", err)
	}
	return lists.MergeClients(in, files), nil
}
