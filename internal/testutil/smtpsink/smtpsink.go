// Package smtpsink is a scripted SMTP server on 127.0.0.1 for tests: a
// destination that a real MTA (Postfix from internal/testutil/postfixtest)
// delivers to, and that answers each RCPT TO with the reply its script
// says for that recipient and attempt: "450 then 250" (a greylister),
// "always 450" (until the sender's queue lifetime runs out), "550" (a
// bounce), or any other sequence.
//
// It is built on github.com/emersion/go-smtp. Replies are given at RCPT
// TO, where greylisters and most policy checks answer; an accepted message
// gets "250 2.0.0 Ok: queued as SINKn" at the end of DATA.
package smtpsink

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	smtp "github.com/emersion/go-smtp"
)

// Reply is one scripted answer to RCPT TO. Code 250 (or 0) accepts.
type Reply struct {
	Code     int    // 250, 450, 451, 550...
	Enhanced string // "4.2.0"; empty for none
	Text     string
}

// Accept is a 250 2.1.5 Ok.
func Accept() Reply { return Reply{Code: 250, Enhanced: "2.1.5", Text: "Ok"} }

// Greylist is the classic greylister answer (wording from the seed
// article's list of 450 variants).
func Greylist() Reply {
	return Reply{Code: 450, Enhanced: "4.2.0", Text: "Recipient address rejected: Greylisted, retry after 1 seconds"}
}

// Unknown is a permanent "no such user".
func Unknown() Reply {
	return Reply{Code: 550, Enhanced: "5.1.1", Text: "Recipient address rejected: User unknown in virtual mailbox table"}
}

// Script maps a recipient address ("bob@example.org") or a whole domain
// ("@example.org") to its replies, one per attempt; the last reply repeats
// for every later attempt. A recipient matching nothing is accepted.
type Script map[string][]Reply

// Event is one RCPT TO the sink answered.
type Event struct {
	Time      time.Time
	Recipient string
	Attempt   int // 1-based, per recipient
	Reply     Reply
}

// Delivery is one accepted message.
type Delivery struct {
	Time       time.Time
	From       string
	Recipients []string
	Data       []byte
	QueueID    string
}

// Sink is a running scripted server.
type Sink struct {
	script Script
	ln     net.Listener
	srv    *smtp.Server
	done   chan struct{}

	mu         sync.Mutex
	attempts   map[string]int
	events     []Event
	deliveries []Delivery
	seq        int
}

// Start starts a sink on a free 127.0.0.1 port; it stops with t.Cleanup.
func Start(t testing.TB, script Script) *Sink {
	t.Helper()
	s, err := Listen("127.0.0.1:0", script)
	if err != nil {
		t.Fatalf("smtpsink: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Listen starts a sink on addr (which must be a loopback address).
func Listen(addr string, script Script) (*Sink, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("address %q is not on loopback", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Sink{script: script, ln: ln, attempts: map[string]int{}, done: make(chan struct{})}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	// Not the MTA's own name, or Postfix would see a mail loop.
	srv.Domain = "sink.tempfail.test"
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 10 << 20
	srv.MaxRecipients = 100
	srv.AllowInsecureAuth = true
	srv.ErrorLog = discardLogger{}
	s.srv = srv
	go func() {
		defer close(s.done)
		_ = srv.Serve(ln)
	}()
	return s, nil
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...interface{}) {}
func (discardLogger) Println(...interface{})        {}

// Addr is "127.0.0.1:PORT".
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Port is the TCP port.
func (s *Sink) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Close stops the server.
func (s *Sink) Close() error {
	err := s.srv.Close()
	<-s.done
	if errors.Is(err, smtp.ErrServerClosed) {
		err = nil
	}
	return err
}

// Events returns every RCPT TO answered so far, in order.
func (s *Sink) Events() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.events...)
}

// Attempts is how many times rcpt was offered so far.
func (s *Sink) Attempts(rcpt string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[strings.ToLower(rcpt)]
}

// Deliveries returns the accepted messages so far.
func (s *Sink) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// answer picks the reply for the next attempt of rcpt and records it.
func (s *Sink) answer(rcpt string) Reply {
	key := strings.ToLower(rcpt)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[key]++
	n := s.attempts[key]
	replies, ok := s.script[key]
	if !ok {
		if at := strings.LastIndexByte(key, '@'); at >= 0 {
			replies = s.script[key[at:]]
		}
	}
	r := Accept()
	if len(replies) > 0 {
		r = replies[min(n, len(replies))-1]
	}
	if r.Code == 0 {
		r.Code = 250
	}
	s.events = append(s.events, Event{Time: time.Now(), Recipient: rcpt, Attempt: n, Reply: r})
	return r
}

type session struct {
	s     *Sink
	from  string
	rcpts []string
}

func (ss *session) Reset()        { ss.from, ss.rcpts = "", nil }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from, ss.rcpts = from, nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	r := ss.s.answer(to)
	if r.Code >= 200 && r.Code < 300 {
		ss.rcpts = append(ss.rcpts, to)
		return nil
	}
	e := &smtp.SMTPError{Code: r.Code, Message: fmt.Sprintf("<%s>: %s", to, r.Text)}
	if ec, ok := parseEnhanced(r.Enhanced); ok {
		e.EnhancedCode = ec
	} else {
		e.EnhancedCode = smtp.NoEnhancedCode
	}
	return e
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.seq++
	id := fmt.Sprintf("SINK%05d", ss.s.seq)
	ss.s.deliveries = append(ss.s.deliveries, Delivery{Time: time.Now(), From: ss.from, Recipients: ss.rcpts, Data: b, QueueID: id})
	ss.s.mu.Unlock()
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "Ok: queued as " + id}
}

func parseEnhanced(s string) (smtp.EnhancedCode, bool) {
	var a, b, c int
	if s == "" {
		return smtp.EnhancedCode{}, false
	}
	if n, err := fmt.Sscanf(s, "%d.%d.%d", &a, &b, &c); n != 3 || err != nil {
		return smtp.EnhancedCode{}, false
	}
	return smtp.EnhancedCode{a, b, c}, true
}
