package report

import (
	"bytes"
	"sync"
	"testing"

	"github.com/tempfail/tempfail/internal/explain"
	"github.com/tempfail/tempfail/internal/maillog"
	"github.com/tempfail/tempfail/internal/maillog/maillogtest"
)

var (
	benchOnce sync.Once
	benchLog  []byte
)

// BenchmarkReport: read, parse, correlate, classify with explain and
// aggregate a generated Postfix log (50 000 messages). Reports MB/s.
func BenchmarkReport(b *testing.B) {
	benchOnce.Do(func() {
		var buf bytes.Buffer
		maillogtest.Generate(&buf, 50000, 1)
		benchLog = buf.Bytes()
	})
	ex, err := explain.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchLog)))
	b.ReportAllocs()
	for b.Loop() {
		r := maillog.NewReader(&maillog.Parser{}, maillog.ReaderSource("bench", bytes.NewReader(benchLog)))
		rep := Build(r, ex, Options{}, nil)
		if rep.Totals.Received < 50000 {
			b.Fatalf("totals %+v", rep.Totals)
		}
	}
}
