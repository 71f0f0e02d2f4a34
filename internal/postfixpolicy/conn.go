package postfixpolicy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tempfail/tempfail/internal/engine"
	"github.com/tempfail/tempfail/internal/policy"
)

// Connection states. Shutdown may close a connection only while it is idle
// (between requests); an active one answers its request first.
const (
	stateIdle int32 = iota
	stateActive
	stateClosed
)

// conn is one client connection: a sequence of requests, each answered
// before the next is read (SMTPD_POLICY_README: "the same connection can be
// used multiple times").
type conn struct {
	s     *Server
	nc    net.Conn
	state atomic.Int32
	br    *bufio.Reader
	bw    *bufio.Writer
	dec   decoder
	req   policy.Request // reused: answered before the next is read
	// wdl is the write deadline last set. Arming a deadline costs a
	// timer update; answers are small, so it is renewed only once half
	// of WriteTimeout has gone by.
	wdl time.Time
	// rdl is the read deadline last set (zero: none); see armIdle.
	rdl time.Time
}

// Buffered I/O is pooled across connections; within one it is reused for
// every request.
var (
	readerPool sync.Pool // *bufio.Reader
	writerPool sync.Pool // *bufio.Writer
)

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc}
	if br, ok := readerPool.Get().(*bufio.Reader); ok {
		br.Reset(nc)
		c.br = br
	} else {
		c.br = bufio.NewReaderSize(nc, 4096)
	}
	if bw, ok := writerPool.Get().(*bufio.Writer); ok {
		bw.Reset(nc)
		c.bw = bw
	} else {
		c.bw = bufio.NewWriterSize(nc, 1024)
	}
	c.dec = decoder{br: c.br, max: s.opts.MaxRequestSize}
	return c
}

func (c *conn) serve() {
	defer c.close()
	c.armIdle(time.Now())
	for c.awaitRequest() {
		if !c.state.CompareAndSwap(stateIdle, stateActive) {
			return // closed by Shutdown just as the request arrived
		}
		if !c.answer() {
			return
		}
		// Going idle, then checking for shutdown, in this order: either
		// this sees Shutdown's flag or Shutdown sees this idle state.
		c.state.Store(stateIdle)
		if c.s.shutting.Load() {
			return
		}
	}
}

// awaitRequest waits, up to IdleTimeout (armed by armIdle), for the first
// byte of a request. Its failure is the normal end of a connection, never a
// protocol error.
func (c *conn) awaitRequest() bool {
	if c.br.Buffered() > 0 {
		return true
	}
	_, err := c.br.Peek(1)
	switch {
	case err == nil:
		return true
	case err == io.EOF:
		c.s.log.Debug("policy client closed the connection", "remote", peerName(c.nc))
	case isTimeout(err):
		c.s.log.Debug("policy connection idle too long; closing", "remote", peerName(c.nc),
			"idle_timeout", c.s.opts.IdleTimeout)
	case errors.Is(err, net.ErrClosed):
		// closed by Shutdown
	default:
		c.s.log.Info("policy connection read error", "remote", peerName(c.nc), "err", err)
	}
	return false
}

// answer reads one request, decides it and writes the answer. It reports
// whether the connection can carry another request.
func (c *conn) answer() bool {
	if !c.whole() {
		// Only a request still arriving needs the (short) read
		// deadline; Postfix usually sends one in a single write.
		c.rdl = deadline(c.s.opts.ReadTimeout)
		c.nc.SetReadDeadline(c.rdl)
	}
	req, err := c.dec.read(&c.req)
	if err != nil {
		c.readFailed(err)
		return false
	}
	verbose := Verbose(req)
	ctx := c.s.ctx
	var notes *engine.Notes
	if verbose {
		// `tempfail query`: collect the checks' notes (one x_tempfail_limit=
		// per rate limit) for the answer. Postfix never asks for this.
		ctx, notes = engine.WithNotes(ctx)
	}
	v := c.decide(ctx, req)
	now := time.Now()
	if wt := c.s.opts.WriteTimeout; wt >= 0 && c.wdl.Sub(now) < wt/2 {
		c.wdl = now.Add(wt)
		c.nc.SetWriteDeadline(c.wdl)
	}
	if err := writeResponseNotes(c.bw, v, verbose, notes.Attrs()); err != nil {
		c.s.log.Info("policy connection write error", "remote", peerName(c.nc), "err", err)
		return false
	}
	c.s.m.requests.Inc()
	c.armIdle(now)
	return true
}

// armIdle makes the read deadline IdleTimeout from now for the wait for the
// next request. Like the write deadline it is renewed lazily, only once it
// has run down by 1/64 (about 5 s of the default 330 s): an idle connection
// closes after 63/64 to all of IdleTimeout, still later than Postfix's own
// idle limit, and a busy one arms no timer per request.
func (c *conn) armIdle(now time.Time) {
	d := c.s.opts.IdleTimeout
	if d < 0 {
		if !c.rdl.IsZero() {
			c.rdl = time.Time{}
			c.nc.SetReadDeadline(c.rdl)
		}
		return
	}
	if c.rdl.Sub(now) >= d-d/64 {
		return
	}
	c.rdl = now.Add(d)
	c.nc.SetReadDeadline(c.rdl)
}

// whole reports whether a complete request (ended by an empty line) is
// already buffered.
func (c *conn) whole() bool {
	b, _ := c.br.Peek(c.br.Buffered())
	return bytes.Contains(b, []byte("\n\n")) || bytes.Contains(b, []byte("\n\r\n"))
}

// readFailed logs and counts why a request could not be read. Postfix,
// seeing the connection close unanswered, logs a warning and applies its
// default_action (SMTPD_POLICY_README: "In case of trouble the policy
// server must not send a reply. Instead the server must log a warning and
// disconnect").
func (c *conn) readFailed(err error) {
	var pe *ProtocolError
	switch {
	case err == io.EOF:
		// Only empty lines, then EOF: a clean close.
		c.s.log.Debug("policy client closed the connection", "remote", peerName(c.nc))
	case errors.As(err, &pe):
		c.s.m.protoError[pe.Kind].Inc()
		c.s.log.Warn("policy protocol error; closing connection", "remote", peerName(c.nc),
			"kind", pe.Kind.String(), "err", pe.Error())
	case isTimeout(err):
		c.s.m.protoError[KindTimeout].Inc()
		c.s.log.Warn("policy protocol error; closing connection", "remote", peerName(c.nc),
			"kind", KindTimeout.String(), "err", err.Error(), "read_timeout", c.s.opts.ReadTimeout)
	case errors.Is(err, net.ErrClosed):
		// closed by Shutdown after its deadline
	default:
		c.s.log.Info("policy connection read error", "remote", peerName(c.nc), "err", err)
	}
}

// decide asks the handler, turning a panic into DUNNO ("no opinion": the
// rest of Postfix's restrictions decide) so one bad request cannot take the
// server, or even the connection, down.
func (c *conn) decide(ctx context.Context, req *policy.Request) (v policy.Verdict) {
	defer func() {
		if r := recover(); r != nil {
			c.s.m.panics.Inc()
			c.s.log.Error("policy handler panicked; answering DUNNO", "remote", peerName(c.nc),
				"panic", r, "protocol_state", string(req.State), "instance", req.Instance,
				"stack", string(debug.Stack()))
			v = policy.Verdict{Action: policy.Dunno}
		}
	}()
	return c.s.h.Decide(ctx, req)
}

// closeIfIdle closes the connection if it is between requests. Called by
// Shutdown with s.mu held.
func (c *conn) closeIfIdle() {
	if c.state.CompareAndSwap(stateIdle, stateClosed) {
		c.nc.Close()
	}
}

func (c *conn) close() {
	c.state.Store(stateClosed)
	c.nc.Close()
	s := c.s
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.open.Add(-1)
	s.m.active.Dec()
	c.br.Reset(nil)
	readerPool.Put(c.br)
	c.bw.Reset(nil)
	writerPool.Put(c.bw)
	s.wg.Done()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
