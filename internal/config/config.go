// Package config reads tempfail's TOML config file. Unknown keys and bad
// values are errors that name the line, because a typo in a mail server's
// policy config must never silently fall back to a default.
package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/tempfail/tempfail/internal/checks/dnsbl"
	"github.com/tempfail/tempfail/internal/checks/greylist"
	"github.com/tempfail/tempfail/internal/checks/ratelimit"
	"github.com/tempfail/tempfail/internal/checks/reversedns"
	"github.com/tempfail/tempfail/internal/checks/senderdomain"
	"github.com/tempfail/tempfail/internal/checks/spf"
	"github.com/tempfail/tempfail/internal/duration"
)

// DefaultListen is postgrey's port, so tempfail drops into existing
// check_policy_service lines unchanged.
const DefaultListen = "127.0.0.1:10023"

// Config is the whole file. docs/config.md documents every key.
type Config struct {
	// Listen addresses: "host:port" or "unix:/path".
	Listen []string `toml:"listen"`
	// DataDir holds the embedded store (tempfail.db).
	DataDir string `toml:"data_dir"`
	// MetricsListen serves Prometheus /metrics; empty: off.
	MetricsListen string `toml:"metrics_listen"`
	// RequestTimeout bounds one decision; past it OnError is answered.
	RequestTimeout duration.Duration `toml:"request_timeout"`
	// OnError is the answer for internal trouble: "dunno" (default) or
	// "defer" (450 4.3.0, for admins who prefer delay over unchecked mail).
	OnError string `toml:"on_error"`
	// MaxConnections bounds concurrent policy connections.
	MaxConnections int `toml:"max_connections"`

	Log      Log             `toml:"log"`
	Store    Store           `toml:"store"`
	Greylist greylist.Config `toml:"greylist"`

	DNS          DNS                 `toml:"dns"`
	SenderDomain senderdomain.Config `toml:"senderdomain"`
	ReverseDNS   reversedns.Config   `toml:"reversedns"`
	SPF          spf.Config          `toml:"spf"`
	DNSBL        dnsbl.Config        `toml:"dnsbl"`
	// RateLimit is [ratelimit] with its [[ratelimit.limit]] tables.
	RateLimit ratelimit.Config `toml:"ratelimit"`

	// Path is the file this was read from ("" for built-in defaults).
	Path string `toml:"-"`
}

// Log is the [log] section.
type Log struct {
	Format string `toml:"format"` // "text" or "json"
	Level  string `toml:"level"`  // "debug", "info", "warn", "error"
}

// Store is the [store] section.
type Store struct {
	// FlushInterval is the group-commit interval of the embedded store: the
	// most recent updates a crash can lose.
	FlushInterval duration.Duration `toml:"flush_interval"`
}

// DNS is the [dns] section: the one resolver every DNS check uses.
type DNS struct {
	// Servers are recursive resolvers ("ip" or "ip:port"); empty: the
	// nameserver lines of /etc/resolv.conf.
	Servers []string `toml:"servers"`
	// Timeout is for one query to one server.
	Timeout duration.Duration `toml:"timeout"`
	// Attempts is the number of queries for one lookup, over the servers.
	Attempts int `toml:"attempts"`
	// CacheSize is the number of answers cached; 0 turns the cache off.
	CacheSize int `toml:"cache_size"`
}

// Defaults is the configuration with no file at all.
func Defaults() Config {
	return Config{
		Listen:         []string{DefaultListen},
		DataDir:        DefaultDataDir(),
		RequestTimeout: duration.Duration(5 * time.Second),
		OnError:        "dunno",
		MaxConnections: 1000,
		Log:            Log{Format: "text", Level: "info"},
		Store:          Store{FlushInterval: duration.Duration(100 * time.Millisecond)},
		Greylist:       greylist.Defaults(),
		DNS:            DNS{Timeout: duration.Duration(2 * time.Second), Attempts: 2, CacheSize: 100000},
		SenderDomain:   senderdomain.Defaults(),
		ReverseDNS:     reversedns.Defaults(),
		SPF:            spf.Defaults(),
		DNSBL:          dnsbl.Defaults(),
		RateLimit:      ratelimit.Defaults(),
	}
}

// DefaultDataDir is /var/lib/tempfail for root, otherwise the per-user
// state directory ($XDG_STATE_HOME/tempfail or ~/.local/state/tempfail).
func DefaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/tempfail"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "tempfail")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "tempfail")
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("tempfail-%d", os.Getuid()))
}

// Load reads path; "" returns Defaults.
func Load(path string) (*Config, error) {
	c := Defaults()
	if path == "" {
		return &c, c.Validate()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := Parse(path, b, &c); err != nil {
		return nil, err
	}
	c.Path = path
	return &c, nil
}

// Parse decodes text over c (which holds the defaults) and validates it.
// name is used in error messages.
func Parse(name string, text []byte, c *Config) error {
	// Lists replace defaults rather than append to them: a file that says
	// recipients = [] means no recipient exemptions.
	md, err := toml.Decode(string(text), c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			if pe.LastKey != "" {
				return fmt.Errorf("%s:%d: %s: %s", name, pe.Position.Line, pe.LastKey, oneLine(pe.Message))
			}
			return fmt.Errorf("%s:%d: %s", name, pe.Position.Line, oneLine(pe.Message))
		}
		// Type mismatches come as plain errors that carry the line in text.
		if m := typeErr.FindStringSubmatch(err.Error()); m != nil {
			return fmt.Errorf("%s:%s: %s: %s", name, m[1], m[2], m[3])
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		k := und[0]
		return fmt.Errorf("%s:%d: unknown key %q%s", name, keyLine(text, k), k.String(), suggest(k))
	}
	if err := c.Validate(); err != nil {
		var se *dnsbl.SiteError
		if errors.As(err, &se) {
			if line := entryLine(text, "dnsbl", "sites", se.Entry); line > 0 {
				return fmt.Errorf("%s:%d: %w", name, line, err)
			}
		}
		var le *ratelimit.LimitError
		if errors.As(err, &le) {
			if line := limitLine(text, le.Index, le.Key); line > 0 {
				return fmt.Errorf("%s:%d: %w", name, line, err)
			}
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

var typeErr = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)`)

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// Validate checks values TOML cannot.
func (c *Config) Validate() error {
	if len(c.Listen) == 0 {
		return fmt.Errorf("listen: at least one address is needed")
	}
	for _, a := range c.Listen {
		if err := validListen(a); err != nil {
			return fmt.Errorf("listen: %w", err)
		}
	}
	if c.MetricsListen != "" {
		if err := validListen(c.MetricsListen); err != nil || strings.HasPrefix(c.MetricsListen, "unix:") {
			return fmt.Errorf("metrics_listen: want host:port, got %q", c.MetricsListen)
		}
	}
	if c.DataDir == "" {
		return fmt.Errorf("data_dir must not be empty")
	}
	if d := c.RequestTimeout.D(); d < 10*time.Millisecond || d > 60*time.Second {
		return fmt.Errorf("request_timeout must be between 10ms and 60s (Postfix gives up after smtpd_policy_service_timeout, 100s), got %s", c.RequestTimeout)
	}
	if c.OnError != "dunno" && c.OnError != "defer" {
		return fmt.Errorf("on_error must be \"dunno\" or \"defer\", not %q", c.OnError)
	}
	if c.MaxConnections < 1 {
		return fmt.Errorf("max_connections must be at least 1")
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format must be \"text\" or \"json\", not %q", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level must be debug, info, warn or error, not %q", c.Log.Level)
	}
	if d := c.Store.FlushInterval.D(); d < time.Millisecond || d > 10*time.Second {
		return fmt.Errorf("store.flush_interval must be between 1ms and 10s, got %s", c.Store.FlushInterval)
	}
	if err := c.validateDNS(); err != nil {
		return err
	}
	if err := c.SenderDomain.Validate(); err != nil {
		return err
	}
	if err := c.ReverseDNS.Validate(); err != nil {
		return err
	}
	if err := c.SPF.Validate(); err != nil {
		return err
	}
	if err := c.DNSBL.Validate(); err != nil {
		return err
	}
	if err := c.Greylist.Validate(); err != nil {
		return err
	}
	return c.RateLimit.Validate()
}

func (c *Config) validateDNS() error {
	for _, s := range c.DNS.Servers {
		if _, err := netip.ParseAddr(s); err == nil {
			continue
		}
		if ap, err := netip.ParseAddrPort(s); err != nil || ap.Port() == 0 {
			return fmt.Errorf("dns.servers: %q is not an IP address or IP:port", s)
		}
	}
	if d := c.DNS.Timeout.D(); d < 10*time.Millisecond || d > 30*time.Second {
		return fmt.Errorf("dns.timeout must be between 10ms and 30s, got %s", c.DNS.Timeout)
	}
	if c.DNS.Attempts < 1 || c.DNS.Attempts > 10 {
		return fmt.Errorf("dns.attempts must be between 1 and 10, got %d", c.DNS.Attempts)
	}
	if c.DNS.CacheSize < 0 {
		return fmt.Errorf("dns.cache_size must not be negative")
	}
	return nil
}

func validListen(a string) error {
	if p, ok := strings.CutPrefix(a, "unix:"); ok {
		if !filepath.IsAbs(p) {
			return fmt.Errorf("unix socket path must be absolute: %q", a)
		}
		return nil
	}
	i := strings.LastIndexByte(a, ':')
	if i < 0 || i == len(a)-1 {
		return fmt.Errorf("want host:port or unix:/path, got %q", a)
	}
	return nil
}
