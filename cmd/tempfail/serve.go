package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/tempfail/tempfail/internal/config"
	"github.com/tempfail/tempfail/internal/daemon"
)

const serveUsage = `Usage: tempfail serve [flags]

Runs the policy server. With no config file it listens on 127.0.0.1:10023
(postgrey's port) and greylists with postgrey's defaults (delay 300s, retry
window 2d, max age 35d, auto-allowlist after 5 passes), keeping its data in
/var/lib/tempfail as root or ~/.local/state/tempfail otherwise. A retry is
matched by the sender's SPF-verified domain or the client's confirmed host
domain when there is one, so provider pools pass after one retry. It also
defers senders whose domain does not resolve (450 4.1.8), rejects SPF fail
(550 5.7.23) and logs clients without reverse DNS, using the system's
resolvers (--dns-servers); temporary DNS trouble never defers mail.
Everything is configurable: docs/config.md, docs/replies.md.

Postfix main.cf:
  smtpd_recipient_restrictions =
      permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination,
      check_policy_service { inet:127.0.0.1:10023, default_action=DUNNO }

Signals: SIGHUP reloads the config and list files without dropping
connections; SIGTERM/SIGINT stop accepting, finish requests in flight and
flush the store.

Flags:
`

// serveFlags are command-line overrides of config keys.
type serveFlags struct {
	config, listen, dataDir, metrics, logFormat, logLevel string
	dnsServers                                            string
	checkOnly                                             bool
}

func (f *serveFlags) apply(c *config.Config) error {
	if f.listen != "" {
		c.Listen = strings.Split(f.listen, ",")
	}
	if f.dataDir != "" {
		c.DataDir = f.dataDir
	}
	if f.metrics != "" {
		c.MetricsListen = f.metrics
	}
	if f.logFormat != "" {
		c.Log.Format = f.logFormat
	}
	if f.logLevel != "" {
		c.Log.Level = f.logLevel
	}
	if f.dnsServers != "" {
		c.DNS.Servers = strings.Split(f.dnsServers, ",")
	}
	return c.Validate()
}

func (f *serveFlags) load() (*config.Config, error) {
	c, err := config.Load(f.config)
	if err != nil {
		return nil, err
	}
	return c, f.apply(c)
}

func serveCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f serveFlags
	fs.StringVar(&f.config, "config", "", "TOML config `file` (default: none, built-in defaults)")
	fs.StringVar(&f.listen, "listen", "", "listen `addresses`, comma-separated: host:port or unix:/path (overrides listen)")
	fs.StringVar(&f.dataDir, "data-dir", "", "state `directory` (overrides data_dir)")
	fs.StringVar(&f.metrics, "metrics-listen", "", "serve Prometheus /metrics on `host:port` (overrides metrics_listen)")
	fs.StringVar(&f.logFormat, "log-format", "", "log format: text or json (overrides log.format)")
	fs.StringVar(&f.logLevel, "log-level", "", "log level: debug, info, warn, error (overrides log.level)")
	fs.StringVar(&f.dnsServers, "dns-servers", "", "DNS `servers`, comma-separated ip or ip:port (overrides dns.servers)")
	fs.BoolVar(&f.checkOnly, "check-config", false, "validate the config and list files, print the result and exit")
	fs.Usage = func() { fmt.Fprint(fs.Output(), serveUsage); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tempfail serve: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cfg, err := f.load()
	if err != nil {
		fmt.Fprintf(stderr, "tempfail serve: %v\n", err)
		return 1
	}
	level := new(slog.LevelVar)
	level.Set(daemon.ParseLevel(cfg.Log.Level))
	logOut := daemon.NewLogWriter(stderr, 100*time.Millisecond)
	defer logOut.Close()
	log := daemon.NewLogger(logOut, cfg.Log.Format, level)

	if f.checkOnly {
		if _, err := daemon.CheckConfig(cfg); err != nil {
			fmt.Fprintf(stderr, "tempfail serve: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "config OK (%s)\n", describe(cfg))
		return 0
	}

	// Catch signals before anything listens: a SIGHUP (logrotate, systemctl
	// reload) or SIGTERM arriving between the first accepted connection and
	// the signal loop must not kill the server with Go's default action.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	defer startProfile()()
	d, err := daemon.New(cfg, log, level)
	if err != nil {
		log.Error("cannot start", "error", err)
		return 1
	}
	if err := d.Start(); err != nil {
		log.Error("cannot start", "error", err)
		d.Shutdown(context.Background())
		return 1
	}
	log.Info("tempfail serving", "version", version, "config", describe(cfg),
		"listen", strings.Join(d.Addrs(), ","), "data_dir", cfg.DataDir)

	for s := range sigs {
		if s == syscall.SIGHUP {
			nc, err := f.load()
			if err == nil {
				err = d.Reload(nc)
			}
			if err != nil {
				log.Error("reload failed; keeping the running configuration", "error", err)
				continue
			}
			log.Info("reloaded", "config", describe(nc))
			continue
		}
		log.Info("shutting down", "signal", s.String())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := d.Shutdown(ctx)
		cancel()
		if err != nil {
			log.Error("shutdown", "error", err)
			return 1
		}
		log.Info("stopped cleanly")
		return 0
	}
	return 0
}

func describe(c *config.Config) string {
	if c.Path == "" {
		return "built-in defaults"
	}
	return c.Path
}
