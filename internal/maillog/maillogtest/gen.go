// Package maillogtest generates synthetic but realistic Postfix logs for
// benchmarks and load tests: each message goes connect -> client= ->
// cleanup -> qmgr -> deliveries (some deferred by greylisting first, some
// bounced, some with two recipients) -> removed, interleaved the way a busy
// server interleaves them. Line formats are those of the test logs in
// internal/trace/testdata.
package maillogtest

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"
)

// Generate writes about n messages' worth of log lines to w and returns the
// number of bytes written.
func Generate(w io.Writer, n int, seed uint64) (int64, error) {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	t := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	var total int64
	buf := make([]byte, 0, 4096)
	type pending struct {
		id, rcpt, rdom, relay string
		at                    int // message index at which to retry
	}
	var retries []pending
	flush := func() error {
		k, err := w.Write(buf)
		total += int64(k)
		buf = buf[:0]
		return err
	}
	stamp := func() string { return t.Format(time.Stamp) }
	for i := 0; i < n; i++ {
		t = t.Add(time.Duration(r.IntN(900)) * time.Millisecond)
		id := fmt.Sprintf("%X", 0x10000000000+r.Int64N(0xEFFFFFFFFFF))
		pid := 1000 + r.IntN(60000)
		ip := fmt.Sprintf("198.51.%d.%d", r.IntN(256), r.IntN(256))
		client := fmt.Sprintf("mail%d.sender%d.example[%s]", r.IntN(9), r.IntN(5000), ip)
		from := fmt.Sprintf("user%d@sender%d.example", r.IntN(100000), r.IntN(5000))
		rdom := fmt.Sprintf("dest%d.example", r.IntN(2000))
		rcpt := fmt.Sprintf("rcpt%d@%s", r.IntN(100000), rdom)
		relay := fmt.Sprintf("mx%d.%s[192.0.2.%d]:25", r.IntN(3), rdom, r.IntN(256))
		size := 1000 + r.IntN(90000)
		h := "mx1"
		buf = fmt.Appendf(buf, "%s %s postfix/smtpd[%d]: connect from %s\n", stamp(), h, pid, client)
		buf = fmt.Appendf(buf, "%s %s postfix/smtpd[%d]: %s: client=%s\n", stamp(), h, pid, id, client)
		buf = fmt.Appendf(buf, "%s %s postfix/cleanup[%d]: %s: message-id=<%d.%d@sender.example>\n", stamp(), h, pid+1, id, r.Int64(), i)
		buf = fmt.Appendf(buf, "%s %s postfix/qmgr[999]: %s: from=<%s>, size=%d, nrcpt=1 (queue active)\n", stamp(), h, id, from, size)
		buf = fmt.Appendf(buf, "%s %s postfix/smtpd[%d]: disconnect from %s ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5\n", stamp(), h, pid, client)
		switch x := r.IntN(20); {
		case x < 3: // greylisted: deferred now, sent later
			buf = fmt.Appendf(buf, "%s %s postfix/smtp[%d]: %s: to=<%s>, relay=%s, delay=0.9, delays=0.1/0.01/0.4/0.39, dsn=4.2.0, status=deferred (host %s said: 450 4.2.0 <%s>: Recipient address rejected: Greylisted, see https://%s/greylisting (in reply to RCPT TO command))\n", stamp(), h, pid+2, id, rcpt, relay, relay[:len(relay)-3], rcpt, rdom)
			retries = append(retries, pending{id, rcpt, rdom, relay, i + 50 + r.IntN(200)})
			continue
		case x < 4: // bounced
			buf = fmt.Appendf(buf, "%s %s postfix/smtp[%d]: %s: to=<%s>, relay=%s, delay=0.7, delays=0.1/0/0.3/0.3, dsn=5.1.1, status=bounced (host %s said: 550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table (in reply to RCPT TO command))\n", stamp(), h, pid+2, id, rcpt, relay, relay[:len(relay)-3], rcpt)
		default:
			buf = fmt.Appendf(buf, "%s %s postfix/smtp[%d]: Trusted TLS connection established to %s: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\n", stamp(), h, pid+2, relay)
			buf = fmt.Appendf(buf, "%s %s postfix/smtp[%d]: %s: to=<%s>, relay=%s, delay=1.1, delays=0.1/0.01/0.5/0.49, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %X)\n", stamp(), h, pid+2, id, rcpt, relay, r.Int64N(1<<40))
		}
		buf = fmt.Appendf(buf, "%s %s postfix/qmgr[999]: %s: removed\n", stamp(), h, id)
		if x := r.IntN(10); x == 0 {
			buf = fmt.Appendf(buf, "%s %s postfix/smtpd[%d]: NOQUEUE: reject: RCPT from unknown[%s]: 450 4.7.1 Client host rejected: cannot find your reverse hostname, [%s]; from=<%s> to=<%s> proto=ESMTP helo=<localhost>\n", stamp(), h, pid, ip, ip, from, rcpt)
		}
		for len(retries) > 0 && retries[0].at <= i {
			p := retries[0]
			retries = retries[1:]
			buf = fmt.Appendf(buf, "%s %s postfix/qmgr[999]: %s: from=<%s>, size=%d, nrcpt=1 (queue active)\n", stamp(), h, p.id, from, size)
			buf = fmt.Appendf(buf, "%s %s postfix/smtp[%d]: %s: to=<%s>, relay=%s, delay=305, delays=304/0.01/0.5/0.49, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as %X)\n", stamp(), h, pid+3, p.id, p.rcpt, p.relay, r.Int64N(1<<40))
			buf = fmt.Appendf(buf, "%s %s postfix/qmgr[999]: %s: removed\n", stamp(), h, p.id)
		}
		if len(buf) > 3000 {
			if err := flush(); err != nil {
				return total, err
			}
		}
	}
	return total, flush()
}
