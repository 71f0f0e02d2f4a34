package postfixpolicy

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/policy"
)

// BenchmarkReadRequest decodes Postfix's largest usual request, every
// attribute of SMTPD_POLICY_README's example.
func BenchmarkReadRequest(b *testing.B) {
	for _, s := range []sample{samples[0], samples[5]} {
		b.Run(s.name, func(b *testing.B) {
			wire := []byte(s.wire)
			r := bytes.NewReader(wire)
			br := bufio.NewReader(r)
			b.SetBytes(int64(len(wire)))
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(wire)
				br.Reset(r)
				if _, err := ReadRequest(br, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriteResponse(b *testing.B) {
	w := bufio.NewWriter(discard{})
	v := policy.Verdict{Action: policy.DeferIfPermit, Text: "Greylisted, see https://example.com/greylisting"}
	b.ReportAllocs()
	for b.Loop() {
		WriteResponse(w, v, false)
	}
}

var null = handlerFunc(func(context.Context, *policy.Request) policy.Verdict { return policy.Verdict{} })

// BenchmarkServerRoundTrip measures requests per second through a null
// server, 16 persistent connections as 16 smtpd processes would hold, each
// sending the full RCPT request and waiting for the answer before the next.
// Client and server share the machine, so this is a lower bound.
func BenchmarkServerRoundTrip(b *testing.B) {
	const conns = 16
	for _, network := range networks {
		b.Run(network, func(b *testing.B) {
			ts := startServer(b, network, Options{}, null)
			cs := make([]net.Conn, conns)
			brs := make([]*bufio.Reader, conns)
			for i := range cs {
				cs[i] = ts.dial(b)
				cs[i].SetDeadline(time.Time{})
				brs[i] = bufio.NewReader(cs[i])
			}
			wire := []byte(rcptFull)
			var next atomic.Int64
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for i := range cs {
				wg.Go(func() {
					c, br := cs[i], brs[i]
					for next.Add(1) <= int64(b.N) {
						if _, err := c.Write(wire); err != nil {
							b.Error(err)
							return
						}
						for { // up to the empty line that ends the answer
							line, err := br.ReadSlice('\n')
							if err != nil {
								b.Error(err)
								return
							}
							if len(line) == 1 {
								break
							}
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}
