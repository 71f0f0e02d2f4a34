package postfixpolicy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tempfail/tempfail/internal/policy"
)

// Handler decides one request. It is called sequentially per connection and
// concurrently across connections. A panic is recovered by the Server and
// answered DUNNO. ctx is cancelled when Shutdown gives up waiting.
type Handler interface {
	Decide(ctx context.Context, req *policy.Request) policy.Verdict
}

// Defaults for Options' zero values.
const (
	DefaultMaxConns = 1000
	// DefaultIdleTimeout outlasts Postfix's smtpd_policy_service_max_idle
	// (300s, SMTPD_POLICY_README), so it is Postfix that closes an idle
	// connection, cleanly, between requests; ours only reaps clients that
	// vanished without closing.
	DefaultIdleTimeout = 330 * time.Second
	// DefaultReadTimeout bounds reading the rest of a request once its
	// first byte arrived. Postfix writes a whole request at once, so only a
	// broken or hostile client ever needs more than milliseconds.
	DefaultReadTimeout = 10 * time.Second
	// DefaultWriteTimeout bounds writing an answer; only a client that
	// stopped reading can hit it.
	DefaultWriteTimeout = 10 * time.Second
)

// Options tune a Server. A zero field takes its default; a negative timeout
// disables that timeout.
type Options struct {
	// MaxConns bounds open connections (DefaultMaxConns). A connection
	// beyond it is closed at once, unanswered, logged and counted in
	// tempfail_policy_connections_rejected_total; see Serve for why it is
	// not kept waiting.
	MaxConns int
	// MaxRequestSize bounds one request in bytes (DefaultMaxRequestSize).
	MaxRequestSize int
	// IdleTimeout closes a connection with no request for this long (to
	// within its last 1/64: the deadline is renewed lazily).
	IdleTimeout time.Duration
	// ReadTimeout bounds reading one request from its first byte on.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one answer.
	WriteTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxRequestSize <= 0 {
		o.MaxRequestSize = DefaultMaxRequestSize
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	return o
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("policy server closed")

// Server serves the policy protocol on any number of listeners.
type Server struct {
	opts Options
	h    Handler
	log  *slog.Logger
	m    *metrics

	// ctx is every handler's context, cancelled when Shutdown gives up.
	ctx    context.Context
	cancel context.CancelFunc

	open     atomic.Int64 // connections being served, for MaxConns
	shutting atomic.Bool

	mu        sync.Mutex // guards listeners, conns, and wg.Add against Shutdown
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	wg        sync.WaitGroup // one per served connection

	rejectLogAt      atomic.Int64 // unix nanoseconds of the last rejection log line
	rejectedUnlogged atomic.Int64
}

// NewServer returns a Server that asks h. log may be nil (no logging); reg
// may be nil (metrics kept but not exported).
func NewServer(opts Options, h Handler, log *slog.Logger, reg prometheus.Registerer) *Server {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		opts:      opts.withDefaults(),
		h:         h,
		log:       log,
		m:         newMetrics(reg),
		ctx:       ctx,
		cancel:    cancel,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
	}
}

// Serve accepts connections on l until Shutdown (then it returns
// ErrServerClosed) or until l is closed by someone else. It may be called
// for several listeners at once; MaxConns counts across all of them.
//
// Beyond MaxConns a new connection is closed at once rather than kept
// waiting: Postfix holds its policy connections open for minutes
// (smtpd_policy_service_max_idle, _max_ttl), so a slot rarely frees up in
// time to be worth a wait, while a closed connection makes Postfix log a
// warning and fall back to the check_policy_service default_action at once
// instead of stalling the SMTP session for smtpd_policy_service_timeout.
func (s *Server) Serve(l net.Listener) error {
	s.mu.Lock()
	if s.shutting.Load() {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()

	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.shutting.Load() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("policy server: %w", err)
			}
			// Typically EMFILE: back off as net/http does, and keep
			// serving the connections already open.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("policy server: accept failed; retrying", "listener", l.Addr().String(),
				"err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if s.open.Add(1) > int64(s.opts.MaxConns) {
			s.open.Add(-1)
			s.reject(nc)
			continue
		}
		c := newConn(s, nc)
		s.mu.Lock()
		if s.shutting.Load() {
			s.mu.Unlock()
			nc.Close()
			s.open.Add(-1)
			return ErrServerClosed
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		s.m.conns.Inc()
		s.m.active.Inc()
		go c.serve()
	}
}

// rejectLogEvery rate-limits the rejection log line: a flood of
// connections must not become a flood of log lines.
const rejectLogEvery = 10 * time.Second

// reject closes a connection over MaxConns, unanswered, as the protocol
// requires on trouble (SMTPD_POLICY_README).
func (s *Server) reject(nc net.Conn) {
	peer := peerName(nc)
	nc.Close()
	s.m.rejected.Inc()
	s.rejectedUnlogged.Add(1)
	now := time.Now().UnixNano()
	last := s.rejectLogAt.Load()
	if last != 0 && now-last < int64(rejectLogEvery) || !s.rejectLogAt.CompareAndSwap(last, now) {
		return
	}
	s.log.Warn("policy server: too many connections; closing new connection",
		"remote", peer, "max_conns", s.opts.MaxConns,
		"rejected_since_last_log", s.rejectedUnlogged.Swap(0))
}

// Shutdown stops accepting, closes idle connections, lets each busy one
// answer its in-flight request and then closes it, and waits for all of
// them. If ctx ends first it closes every remaining connection, cancels the
// handlers' context and returns ctx's error without waiting further (a
// handler that ignores its context cannot hold Shutdown up).
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.shutting.Store(true)
	for l := range s.listeners {
		l.Close()
	}
	for c := range s.conns {
		c.closeIfIdle()
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		s.cancel()
		return fmt.Errorf("policy server shutdown: %w", ctx.Err())
	}
}

// deadline turns a timeout into an absolute deadline; negative means none.
func deadline(d time.Duration) time.Time {
	if d < 0 {
		return time.Time{}
	}
	return time.Now().Add(d)
}

// peerName names the client for logs. Unix-socket clients have no address
// of their own, so they are named after the socket they came in on.
func peerName(nc net.Conn) string {
	if a := nc.RemoteAddr(); a != nil {
		if s := a.String(); s != "" && s != "@" {
			return s
		}
	}
	if a := nc.LocalAddr(); a != nil {
		return a.Network() + ":" + a.String()
	}
	return "unknown"
}
