package maillog_test

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

func benchData(b *testing.B) []byte {
	benchOnce.Do(func() {
		var buf bytes.Buffer
		maillogtest.Generate(&buf, 50000, 1)
		benchLog = buf.Bytes()
	})
	return benchLog
}

// BenchmarkParsePostfix: framing + parsing of a generated Postfix log
// through Reader (line splitting included). Reports MB/s.
func BenchmarkParsePostfix(b *testing.B) {
	data := benchData(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r := maillog.NewReader(&maillog.Parser{}, maillog.ReaderSource("bench", bytes.NewReader(data)))
		n := 0
		for {
			ev, ok := r.Next()
			if !ok {
				break
			}
			if ev.Kind == maillog.KindUnparsed {
				b.Fatalf("unparsed: %q", ev.Line)
			}
			n++
		}
		if n == 0 {
			b.Fatal("no events")
		}
	}
}
