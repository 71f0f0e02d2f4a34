package spf

import (
	"fmt"
	"os"
	"strings"
)

// Config is the [spf] section. docs/config.md documents every key.
type Config struct {
	Enabled bool `toml:"enabled"`
	// What to do for each result: "pass" (DUNNO), "defer" (4xx) or
	// "reject" (5xx). Defaults: fail rejects, everything else passes.
	Fail      string `toml:"fail"`
	SoftFail  string `toml:"softfail"`
	Neutral   string `toml:"neutral"`
	None      string `toml:"none"`
	TempError string `toml:"temperror"`
	PermError string `toml:"permerror"`
	// RejectText and DeferText are the reply texts; {result}, {domain},
	// {ip}, {sender} and {explanation} are filled in.
	RejectText string `toml:"reject_text"`
	DeferText  string `toml:"defer_text"`
	// AddHeader adds Received-SPF (RFC 7208 section 9.1) to accepted
	// messages, once per message.
	AddHeader bool `toml:"add_header"`
	// Receiver is the receiver= host name in Received-SPF; default: this
	// host's name.
	Receiver string `toml:"receiver"`
}

// Defaults: fail -> 550 5.7.23, everything else passes, Received-SPF on.
func Defaults() Config {
	host, _ := os.Hostname()
	return Config{
		Enabled:    true,
		Fail:       "reject",
		SoftFail:   "pass",
		Neutral:    "pass",
		None:       "pass",
		TempError:  "pass",
		PermError:  "pass",
		RejectText: "SPF {result}: {explanation}",
		DeferText:  "SPF {result}: {explanation}, try again later",
		AddHeader:  true,
		Receiver:   host,
	}
}

// Validate checks values that decode fine but make no sense.
func (c *Config) Validate() error {
	for _, a := range []struct{ key, v string }{
		{"fail", c.Fail}, {"softfail", c.SoftFail}, {"neutral", c.Neutral},
		{"none", c.None}, {"temperror", c.TempError}, {"permerror", c.PermError},
	} {
		switch a.v {
		case "pass", "defer", "reject":
		default:
			return fmt.Errorf("spf.%s must be \"pass\", \"defer\" or \"reject\", not %q", a.key, a.v)
		}
	}
	if c.RejectText == "" || c.DeferText == "" || strings.ContainsAny(c.RejectText+c.DeferText, "\r\n") {
		return fmt.Errorf("spf.reject_text and spf.defer_text must be one non-empty line")
	}
	if strings.ContainsAny(c.Receiver, " \t\r\n;\"") {
		return fmt.Errorf("spf.receiver must be a host name, got %q", c.Receiver)
	}
	return nil
}
