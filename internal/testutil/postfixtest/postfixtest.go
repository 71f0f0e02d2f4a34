// Package postfixtest runs a real Postfix (the Debian package) for
// integration tests: a private instance with its own config and queue
// directories, smtpd on a free 127.0.0.1 port, mail for one virtual domain
// delivered into a Maildir the test can read, and its log captured in memory.
//
// Postfix's master must start as root, so tests using this package need root
// (CI runs them in a container as root). Missing programs fail the test
// rather than skip it: in CI an absent real component must not pass
// silently. Callers skip under testing.Short() themselves.
//
// Nothing here talks to a non-loopback address: smtpd does no client name
// lookups, the smtp(8) client is not even configured, and all mail outside
// the virtual domain fails through error(8).
//
// "postfix -c DIR" needs no alternate_config_directories entry in the
// default /etc/postfix/main.cf here: Postfix checks that list only for
// callers whose effective uid is not 0 (mail_conf_suck in mail_conf.c), and
// everything this package runs, runs as root. So the default main.cf may be
// absent, as the Debian "No configuration" install leaves it.
package postfixtest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// InstallHint is appended to failures caused by missing programs.
const InstallHint = "run scripts/install-test-deps.sh (as root) to install Postfix, swaks, redis-server and postgrey"

// maildirName is the Maildir, relative to virtual_mailbox_base, that every
// recipient is delivered to.
const maildirName = "box"

// Options configures an instance. The zero value is a Postfix that accepts
// mail for example.net from anyone on loopback without asking any policy
// server.
type Options struct {
	// PolicyAddr is the policy server smtpd asks at RCPT TO, as
	// "127.0.0.1:PORT", "inet:127.0.0.1:PORT" or "unix:/abs/path". Only
	// loopback is accepted. Empty means no policy check.
	PolicyAddr string
	// PolicyDefaultAction is what smtpd does when the policy server cannot
	// be reached or answers garbage. Default "DUNNO" (fail open), which is
	// how tempfail is meant to be deployed.
	PolicyDefaultAction string
	// PolicyAtData and PolicyAtEndOfData also ask the policy server in
	// smtpd_data_restrictions / smtpd_end_of_data_restrictions (the
	// protocol_state values DATA and END-OF-MESSAGE).
	PolicyAtData      bool
	PolicyAtEndOfData bool

	// VirtualDomain is the only domain accepted and delivered (to the
	// Maildir read by Messages). Default "example.net".
	VirtualDomain string
	// MyNetworks is Postfix's mynetworks. Default "127.0.0.0/8". Our
	// restrictions never use permit_mynetworks, but Postfix's anvil rate
	// limits exempt $mynetworks (smtpd_client_event_limit_exceptions), so a
	// test of smtpd_client_*_rate_limit must set this to something that
	// excludes 127.0.0.1 (for example "192.0.2.0/24").
	MyNetworks string
	// XCLIENT lets 127.0.0.1 use the XCLIENT command, so a test can present
	// other client addresses to the policy server, for example
	// swaks --xclient-addr 192.0.2.10 --xclient-name mail.example.org.
	XCLIENT bool

	// Relays routes mail for each domain (key, "example.org") to an SMTP
	// server on loopback (value, "127.0.0.1:PORT", e.g. an
	// internal/testutil/smtpsink): the domain becomes a relay domain that
	// anyone on loopback may send to, and an smtp(8) service is added to
	// master.cf with DNS lookups off. Only IPv4 loopback is accepted.
	Relays map[string]string

	// Queue timing for retry and expiry tests; zero keeps Postfix's
	// default. Written in whole seconds (at least 1s). Postfix wants
	// MinimalBackoffTime >= QueueRunDelay and MaximalBackoffTime >=
	// MinimalBackoffTime. A MaximalQueueLifetime of a few seconds makes a
	// message that keeps being deferred expire ("status=expired, returned
	// to sender") within a test.
	QueueRunDelay        time.Duration
	MinimalBackoffTime   time.Duration
	MaximalBackoffTime   time.Duration
	MaximalQueueLifetime time.Duration
	BounceQueueLifetime  time.Duration

	// ExtraMainCF sets main.cf parameters after all of the above, so it can
	// override anything (including the restrictions).
	ExtraMainCF map[string]string
	// ExtraMasterCF lines are appended to master.cf. Use chroot "n".
	ExtraMasterCF []string

	// StartTimeout bounds the wait for Postfix to come up. Default 30s.
	StartTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.PolicyDefaultAction == "" {
		o.PolicyDefaultAction = "DUNNO"
	}
	if o.VirtualDomain == "" {
		o.VirtualDomain = "example.net"
	}
	if o.MyNetworks == "" {
		o.MyNetworks = "127.0.0.0/8"
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 30 * time.Second
	}
	return o
}

// Instance is a running private Postfix.
type Instance struct {
	dir     string // everything of this instance lives below dir
	confDir string
	port    int
	opts    Options

	postfix, postqueue, swaks string

	// cmd is "postfix -c confDir start-fg": a shell script that runs master
	// in the foreground and exits when master does.
	cmd      *exec.Cmd
	waitDone chan struct{} // closed when cmd has exited
	waitErr  error         // valid after waitDone

	// readDone is closed when the log pipe reports EOF. Master and every
	// daemon it forks hold the write end as stdout, so EOF means that no
	// process of this instance is left.
	readDone chan struct{}

	logMu     sync.Mutex
	logLines  []string
	logNotify chan struct{} // closed and replaced whenever a line arrives

	// watchdog stops Postfix if this test binary dies without running
	// cleanups (go test -timeout, SIGKILL): see startWatchdog.
	watchdog      *exec.Cmd
	watchdogStdin io.WriteCloser

	stopOnce sync.Once
	stopErr  error
}

// Message is one delivered message read from the Maildir.
type Message struct {
	Path   string
	Raw    []byte
	Header mail.Header
	Body   []byte
}

// Start creates, starts and waits for a private Postfix instance. It is
// stopped and its files removed by t.Cleanup; on test failure the Postfix
// log is dumped with t.Log.
func Start(t testing.TB, opts Options) *Instance {
	t.Helper()
	opts = opts.withDefaults()

	inst := &Instance{
		opts:      opts,
		logNotify: make(chan struct{}),
		postfix:   findProgram(t, "postfix", "/usr/sbin/postfix"),
		postqueue: findProgram(t, "postqueue", "/usr/sbin/postqueue"),
		swaks:     findProgram(t, "swaks", "/usr/bin/swaks"),
	}
	if os.Geteuid() != 0 {
		t.Fatal("postfixtest: Postfix's master daemon must be started as root; run these tests as root (the CI container does)")
	}

	mailUID, mailGID := lookupIDs(t, "nobody")
	pfUID, pfGID := lookupIDs(t, "postfix")

	base, err := traversableTempDir()
	if err != nil {
		t.Fatalf("postfixtest: %v", err)
	}
	// Not t.TempDir(): its parent is mode 0700, and the postfix and nobody
	// users must be able to reach the queue and the Maildir.
	dir, err := os.MkdirTemp(base, "tempfail-postfix-")
	if err != nil {
		t.Fatalf("postfixtest: %v", err)
	}
	inst.dir = dir
	inst.confDir = filepath.Join(dir, "etc")
	t.Cleanup(func() {
		if err := inst.stop(); err != nil {
			t.Errorf("postfixtest: stopping Postfix: %v", err)
		}
		if t.Failed() {
			t.Logf("postfixtest: Postfix log (%s):\n%s", dir, inst.Log())
		}
		if inst.stopErr == nil {
			// Leave the files for inspection if processes may remain;
			// the watchdog removes them once Postfix is gone.
			if err := os.RemoveAll(dir); err != nil {
				t.Errorf("postfixtest: %v", err)
			}
		}
		inst.releaseWatchdog(inst.stopErr == nil)
	})

	mustMkdir(t, dir, 0o755, 0, 0)
	mustMkdir(t, inst.confDir, 0o755, 0, 0)
	makeQueue(t, filepath.Join(dir, "queue"), pfUID)
	mustMkdir(t, filepath.Join(dir, "data"), 0o700, pfUID, pfGID)
	// virtual(8) creates box/{tmp,new,cur} as the delivery user.
	mustMkdir(t, filepath.Join(dir, "mail"), 0o755, mailUID, mailGID)

	params, err := opts.mainCF(dir, strconv.Itoa(mailUID), strconv.Itoa(mailGID))
	if err != nil {
		t.Fatalf("postfixtest: %v", err)
	}
	if err := writeConfigFile(filepath.Join(inst.confDir, "main.cf"), renderMainCF(params)); err != nil {
		t.Fatalf("postfixtest: %v", err)
	}

	inst.startWatchdog(t)

	// The free port is found by binding :0 and closing it, so another
	// process can take it before master binds. Master then dies with
	// "bind ... Address already in use"; try again on a new port.
	const attempts = 3
	for i := 1; ; i++ {
		err := inst.startOnce(opts.StartTimeout)
		if err == nil {
			break
		}
		if errors.Is(err, errPortTaken) && i < attempts {
			continue
		}
		// The cleanup dumps the Postfix log.
		t.Fatalf("postfixtest: starting Postfix in %s: %v", dir, err)
	}
	return inst
}

var errPortTaken = errors.New("port already in use")

// startOnce writes master.cf for a fresh port, starts master and waits until
// it logs that it is up.
func (inst *Instance) startOnce(timeout time.Duration) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	// postfix-script skips its start-up checks when this file exists (it is
	// how "postfix quick-stop" restarts fast) and removes it. Those checks
	// run post-install and find(1) over the install and take about a second;
	// makeQueue already did the part a fresh instance needs.
	if err := os.WriteFile(filepath.Join(inst.dir, "queue", "quick-start"), nil, 0o644); err != nil {
		return err
	}
	inst.port = port
	extraMaster := inst.opts.ExtraMasterCF
	if len(inst.opts.Relays) > 0 {
		extraMaster = append([]string{smtpService}, extraMaster...)
	}
	if err := writeConfigFile(filepath.Join(inst.confDir, "master.cf"), masterCF(port, extraMaster)); err != nil {
		return err
	}

	// A pipe of our own rather than an io.Writer: with an io.Writer,
	// exec.Cmd.Wait would also wait for master's grandchildren to close it.
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd := exec.Command(inst.postfix, "-c", inst.confDir, "start-fg")
	cmd.Stdout = pw
	cmd.Stderr = pw
	// Own process group: a ^C in the terminal goes to go test, whose
	// cleanups (or the watchdog) stop Postfix properly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return err
	}
	pw.Close()
	inst.cmd = cmd
	inst.waitDone = make(chan struct{})
	inst.readDone = make(chan struct{})
	go func() {
		inst.waitErr = cmd.Wait()
		close(inst.waitDone)
	}()
	go inst.readLog(pr, inst.readDone)

	started := regexp.MustCompile(`postfix/master\[\d+\]: daemon started`)
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	from := inst.logLen()
	for {
		// Take the channel before looking, so a line arriving in between
		// still wakes us.
		changed := inst.logChanged()
		if inst.logMatchFrom(from, started) {
			break
		}
		select {
		case <-changed:
		case <-inst.waitDone:
			// Drain what master wrote before dying.
			select {
			case <-inst.readDone:
			case <-time.After(2 * time.Second):
			}
			if inst.logMatchFrom(from, regexp.MustCompile(`Address already in use`)) {
				return errPortTaken
			}
			return fmt.Errorf("postfix start-fg exited: %v", inst.waitErr)
		case <-deadline.C:
			inst.killAll()
			return fmt.Errorf("master did not log \"daemon started\" within %v", timeout)
		}
	}
	// Master binds its inet sockets before logging "daemon started", so the
	// port must be taken now. Probe by binding rather than connecting: an
	// SMTP connection would show up in the log and in anvil's counters.
	if l, err := net.Listen("tcp", inst.Addr()); err == nil {
		l.Close()
		inst.killAll()
		return fmt.Errorf("master started but nothing listens on %s", inst.Addr())
	}
	return nil
}

func (inst *Instance) readLog(r *os.File, done chan struct{}) {
	defer close(done)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		inst.appendLog(sc.Text())
	}
	if err := sc.Err(); err != nil {
		inst.appendLog("postfixtest: log reader: " + err.Error() + "; discarding the rest")
		// Keep draining: a full pipe would block every Postfix process
		// that logs.
		_, _ = io.Copy(io.Discard, r)
	}
}

func (inst *Instance) appendLog(line string) {
	inst.logMu.Lock()
	defer inst.logMu.Unlock()
	inst.logLines = append(inst.logLines, line)
	close(inst.logNotify)
	inst.logNotify = make(chan struct{})
}

func (inst *Instance) logLen() int {
	inst.logMu.Lock()
	defer inst.logMu.Unlock()
	return len(inst.logLines)
}

func (inst *Instance) logChanged() <-chan struct{} {
	inst.logMu.Lock()
	defer inst.logMu.Unlock()
	return inst.logNotify
}

func (inst *Instance) logMatchFrom(from int, re *regexp.Regexp) bool {
	_, ok := inst.findLog(from, re)
	return ok
}

func (inst *Instance) findLog(from int, re *regexp.Regexp) (string, bool) {
	inst.logMu.Lock()
	defer inst.logMu.Unlock()
	for _, l := range inst.logLines[min(from, len(inst.logLines)):] {
		if re.MatchString(l) {
			return l, true
		}
	}
	return "", false
}

// Addr is smtpd's address, "127.0.0.1:PORT".
func (inst *Instance) Addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(inst.port))
}

// Port is smtpd's TCP port.
func (inst *Instance) Port() int { return inst.port }

// Dir is the instance's root directory (etc/, queue/, data/, mail/).
func (inst *Instance) Dir() string { return inst.dir }

// ConfigDir is the directory to pass to Postfix commands as -c.
func (inst *Instance) ConfigDir() string { return inst.confDir }

// Log returns everything Postfix has logged so far, one line per entry.
func (inst *Instance) Log() string {
	inst.logMu.Lock()
	defer inst.logMu.Unlock()
	return strings.Join(inst.logLines, "\n")
}

// WaitLog waits until a log line (from the start of the log) matches re and
// returns it. It fails the test on timeout.
func (inst *Instance) WaitLog(t testing.TB, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		changed := inst.logChanged()
		if l, ok := inst.findLog(0, re); ok {
			return l
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("postfixtest: no Postfix log line matched %q within %v", re, timeout)
			return ""
		}
	}
}

// Swaks runs swaks against this instance with args appended to
// "--server 127.0.0.1 --port PORT" and returns its combined output and exit
// status. A non-zero status is not a test failure (rejections are what
// tests look for); failing to run swaks at all is.
func (inst *Instance) Swaks(t testing.TB, args ...string) (output string, exitCode int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := append([]string{"--server", "127.0.0.1", "--port", strconv.Itoa(inst.port)}, args...)
	out, err := exec.CommandContext(ctx, inst.swaks, argv...).CombinedOutput()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case ctx.Err() != nil:
		t.Fatalf("postfixtest: swaks %q timed out\n%s", argv, out)
	case errors.As(err, &exitErr) && exitErr.Exited():
		return string(out), exitErr.ExitCode()
	default:
		t.Fatalf("postfixtest: swaks %q: %v\n%s", argv, err, out)
	}
	return "", -1
}

// Messages returns the messages delivered so far, oldest first.
func (inst *Instance) Messages(t testing.TB) []Message {
	t.Helper()
	type entry struct {
		path string
		mod  time.Time
	}
	var entries []entry
	box := filepath.Join(inst.dir, "mail", maildirName)
	// virtual(8) writes into tmp/ and renames into new/; cur/ is only used
	// once a reader has seen a message, but check it for completeness.
	for _, sub := range []string{"new", "cur"} {
		des, err := os.ReadDir(filepath.Join(box, sub))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatalf("postfixtest: %v", err)
		}
		for _, de := range des {
			info, err := de.Info()
			if err != nil {
				t.Fatalf("postfixtest: %v", err)
			}
			entries = append(entries, entry{filepath.Join(box, sub, de.Name()), info.ModTime()})
		}
	}
	// Maildir names start with the delivery second; the mtime orders
	// deliveries within one second.
	slices.SortFunc(entries, func(a, b entry) int {
		if c := a.mod.Compare(b.mod); c != 0 {
			return c
		}
		return strings.Compare(filepath.Base(a.path), filepath.Base(b.path))
	})
	msgs := make([]Message, 0, len(entries))
	for _, e := range entries {
		raw, err := os.ReadFile(e.path)
		if err != nil {
			t.Fatalf("postfixtest: %v", err)
		}
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("postfixtest: parsing %s: %v", e.path, err)
		}
		body, err := io.ReadAll(m.Body)
		if err != nil {
			t.Fatalf("postfixtest: %v", err)
		}
		msgs = append(msgs, Message{Path: e.path, Raw: raw, Header: m.Header, Body: body})
	}
	return msgs
}

// WaitMessages waits until at least n messages have been delivered and
// returns them all. It fails the test on timeout.
func (inst *Instance) WaitMessages(t testing.TB, n int, timeout time.Duration) []Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := inst.Messages(t)
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("postfixtest: %d of %d messages delivered after %v\n--- queue ---\n%s", len(msgs), n, timeout, inst.postqueueRaw())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Postqueue returns the output of "postqueue -j": one JSON object per queued
// message, empty when the queue is empty.
func (inst *Instance) Postqueue(t testing.TB) string {
	t.Helper()
	out, err := inst.runPostqueue()
	if err != nil {
		t.Fatalf("postfixtest: postqueue -j: %v\n%s", err, out)
	}
	return out
}

// Flush runs "postqueue -f": the queue manager retries every deferred
// message now instead of at its next scheduled time.
func (inst *Instance) Flush(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, inst.postqueue, "-c", inst.confDir, "-f").CombinedOutput()
	if err != nil {
		t.Fatalf("postfixtest: postqueue -f: %v\n%s", err, out)
	}
}

func (inst *Instance) postqueueRaw() string {
	out, err := inst.runPostqueue()
	if err != nil {
		return fmt.Sprintf("postqueue -j: %v\n%s", err, out)
	}
	return out
}

func (inst *Instance) runPostqueue() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// As root, -c needs no alternate_config_directories entry in the
	// default main.cf; Postfix only checks that for non-root callers.
	out, err := exec.CommandContext(ctx, inst.postqueue, "-c", inst.confDir, "-j").CombinedOutput()
	return string(out), err
}

// Stop stops Postfix and waits until all of its processes are gone. It is
// idempotent and also run by t.Cleanup; the files stay until the cleanup.
func (inst *Instance) Stop() {
	_ = inst.stop()
}

func (inst *Instance) stop() error {
	inst.stopOnce.Do(func() { inst.stopErr = inst.doStop() })
	return inst.stopErr
}

func (inst *Instance) doStop() error {
	if inst.cmd == nil {
		return nil
	}
	var stopErr error
	if !waitClosed(inst.readDone, 0) {
		// "postfix stop" signals master (queue/pid/master.pid), which
		// terminates its children and exits; start-fg then exits with
		// status 143. Its own exit status does not matter (it fails if
		// master died already): what counts is that every process is gone,
		// which the log pipe's EOF tells.
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		out, err := exec.CommandContext(ctx, inst.postfix, "-c", inst.confDir, "stop").CombinedOutput()
		cancel()
		if !waitClosed(inst.readDone, 15*time.Second) {
			inst.killAll()
			if !waitClosed(inst.readDone, 5*time.Second) {
				return errors.New("Postfix processes still hold the log pipe after SIGKILL")
			}
			stopErr = fmt.Errorf("Postfix did not stop on \"postfix stop\" (%v: %s); killed it", err, bytes.TrimSpace(out))
		}
	}
	if !waitClosed(inst.waitDone, 5*time.Second) {
		_ = syscall.Kill(-inst.cmd.Process.Pid, syscall.SIGKILL)
		<-inst.waitDone
	}
	return stopErr
}

// killAll SIGKILLs master's process group: master calls setsid(), and every
// daemon it forks stays in its group.
func (inst *Instance) killAll() {
	if pid := inst.masterPID(); pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	if inst.cmd != nil && inst.cmd.Process != nil {
		_ = syscall.Kill(-inst.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// masterPID reads master's pid file, or returns 0.
func (inst *Instance) masterPID() int {
	b, err := os.ReadFile(filepath.Join(inst.dir, "queue", "pid", "master.pid"))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// startWatchdog starts a shell that stops Postfix and removes the instance
// when this process dies without running its cleanups (go test -timeout
// panics, SIGKILL): the shell's stdin is a pipe only this process writes to,
// so its "read" returns at EOF when this process is gone. A normal cleanup
// writes "ok" first, and the shell just exits.
func (inst *Instance) startWatchdog(t testing.TB) {
	t.Helper()
	const script = `read -r word
[ "$word" = ok ] && exit 0
"$1" -c "$2/etc" stop >/dev/null 2>&1
i=0
while [ $i -lt 100 ] && "$1" -c "$2/etc" status >/dev/null 2>&1; do
	sleep 0.1
	i=$((i + 1))
done
rm -rf -- "$2"`
	cmd := exec.Command("/bin/sh", "-c", script, "postfixtest-watchdog", inst.postfix, inst.dir)
	// Out of the terminal's process group so ^C cannot kill it before it
	// has done its job.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("postfixtest: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("postfixtest: starting watchdog: %v", err)
	}
	inst.watchdog = cmd
	inst.watchdogStdin = stdin
}

// releaseWatchdog ends the watchdog. When clean is false the instance may
// still be running, so the watchdog gets EOF and tries to stop it itself.
func (inst *Instance) releaseWatchdog(clean bool) {
	if inst.watchdog == nil {
		return
	}
	if clean {
		_, _ = io.WriteString(inst.watchdogStdin, "ok\n")
	}
	_ = inst.watchdogStdin.Close()
	if clean {
		_ = inst.watchdog.Wait()
	} else {
		// Reap it in the background; it may take seconds.
		go func() { _ = inst.watchdog.Wait() }()
	}
}

// writeConfigFile writes a Postfix configuration file and backdates it.
// Postfix will not read a table file whose mtime is within the last second
// or so (dict_load_file: "pausing to let file cool down", in 300ms steps, for
// every program that reads main.cf), which made each start take about 2s.
func writeConfigFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return err
	}
	past := time.Now().Add(-time.Hour)
	return os.Chtimes(path, past, past)
}

func waitClosed(ch <-chan struct{}, d time.Duration) bool {
	// Look first: with d == 0 both select cases would be ready at once.
	select {
	case <-ch:
		return true
	default:
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

func findProgram(t testing.TB, name, fallback string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	// /usr/sbin is often not on a non-root PATH.
	if info, err := os.Stat(fallback); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
		return fallback
	}
	t.Fatalf("postfixtest: %s not found; %s", name, InstallHint)
	return ""
}

// makeQueue creates queue_directory as $meta_directory/postfix-files
// describes it, which is what "postfix check" (post-install create-missing)
// would do: a root-owned root and pid/, everything else owned by mail_owner,
// and public/ and maildrop/ group-owned by setgid_group so that the
// setgid postqueue/postdrop can use them.
func makeQueue(t testing.TB, queue string, mailOwnerUID int) {
	t.Helper()
	g, err := user.LookupGroup("postdrop")
	if err != nil {
		t.Fatalf("postfixtest: group postdrop: %v; %s", err, InstallHint)
	}
	postdrop, err := strconv.Atoi(g.Gid)
	if err != nil {
		t.Fatalf("postfixtest: group postdrop has non-numeric id %s", g.Gid)
	}
	mustMkdir(t, queue, 0o755, 0, 0)
	mustMkdir(t, filepath.Join(queue, "pid"), 0o755, 0, 0)
	for _, d := range []string{"active", "bounce", "corrupt", "defer", "deferred", "flush", "hold", "incoming", "private", "saved", "trace"} {
		mustMkdir(t, filepath.Join(queue, d), 0o700, mailOwnerUID, 0)
	}
	mustMkdir(t, filepath.Join(queue, "maildrop"), 0o730, mailOwnerUID, postdrop)
	mustMkdir(t, filepath.Join(queue, "public"), 0o710, mailOwnerUID, postdrop)
}

func lookupIDs(t testing.TB, name string) (uid, gid int) {
	t.Helper()
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatalf("postfixtest: user %q: %v; %s", name, err, InstallHint)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		t.Fatalf("postfixtest: user %q has non-numeric ids %s:%s", name, u.Uid, u.Gid)
	}
	return uid, gid
}

func mustMkdir(t testing.TB, path string, mode os.FileMode, uid, gid int) {
	t.Helper()
	if err := os.Mkdir(path, mode); err != nil && !errors.Is(err, os.ErrExist) {
		t.Fatalf("postfixtest: %v", err)
	}
	// Chmod because Mkdir's mode is filtered by the umask.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatalf("postfixtest: %v", err)
	}
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatalf("postfixtest: %v", err)
	}
}

// traversableTempDir returns os.TempDir(), or /tmp if some directory on the
// way to it is not searchable by other users (then the postfix user could
// not reach the queue).
func traversableTempDir() (string, error) {
	for _, d := range []string{os.TempDir(), "/tmp"} {
		if searchableByAll(d) {
			return d, nil
		}
	}
	return "", errors.New("neither $TMPDIR nor /tmp is searchable by all users; Postfix's daemons could not reach their queue")
}

func searchableByAll(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		info, err := os.Stat(dir)
		if err != nil || !info.IsDir() || info.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
