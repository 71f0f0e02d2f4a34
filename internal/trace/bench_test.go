package trace

import (
	"bytes"
	"sync"
	"testing"

	"github.com/tempfail/tempfail/internal/maillog"
	"github.com/tempfail/tempfail/internal/maillog/maillogtest"
)

var (
	benchOnce sync.Once
	benchLog  []byte
)

// BenchmarkCorrelate: read, parse and correlate a generated Postfix log
// (50 000 messages, greylisted retries, bounces, NOQUEUE rejects) into
// messages. Reports MB/s of log.
func BenchmarkCorrelate(b *testing.B) {
	benchOnce.Do(func() {
		var buf bytes.Buffer
		maillogtest.Generate(&buf, 50000, 1)
		benchLog = buf.Bytes()
	})
	b.SetBytes(int64(len(benchLog)))
	b.ReportAllocs()
	for b.Loop() {
		msgs := 0
		c := New(Options{Emit: func(*Message) { msgs++ }})
		r := maillog.NewReader(&maillog.Parser{}, maillog.ReaderSource("bench", bytes.NewReader(benchLog)))
		for ev, ok := r.Next(); ok; ev, ok = r.Next() {
			c.Add(ev)
		}
		c.Flush()
		if st := c.Stats(); st.Reused != 0 || msgs < 50000 {
			b.Fatalf("stats %+v msgs %d", st, msgs)
		}
	}
}
