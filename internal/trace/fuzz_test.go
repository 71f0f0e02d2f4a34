package trace

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/maillog"
	"github.com/tempfail/tempfail/internal/maillog/maillogtest"
)

// FuzzCorrelate feeds arbitrary logs (seeds: testdata/*.log) through the
// parser and the correlator with a tiny open cap: no panic, every message
// emitted once, nothing left open.
func FuzzCorrelate(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.log")
	for _, fn := range files {
		b, _ := os.ReadFile(fn)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := maillog.NewReader(&maillog.Parser{Location: time.UTC}, maillog.ReaderSource("fuzz", bytes.NewReader(data)))
		seen := map[*Message]bool{}
		c := New(Options{MaxOpen: 4, Emit: func(m *Message) {
			if seen[m] {
				t.Fatalf("message emitted twice: %+v", m)
			}
			seen[m] = true
		}})
		for ev, ok := r.Next(); ok; ev, ok = r.Next() {
			c.Add(ev)
		}
		c.Flush()
		if st := c.Stats(); st.Open != 0 || int(st.Messages) != len(seen) {
			t.Fatalf("stats %+v, emitted %d", st, len(seen))
		}
	})
}

// TestGeneratedLog: the benchmark's generated log correlates without
// reuse or unparsed lines; only greylisted messages whose retry falls past
// the end stay deferred, and those are marked incomplete.
func TestGeneratedLog(t *testing.T) {
	var buf bytes.Buffer
	maillogtest.Generate(&buf, 3000, 7)
	r := maillog.NewReader(&maillog.Parser{}, maillog.ReaderSource("gen", &buf))
	count := map[Outcome]int{}
	c := New(Options{Emit: func(m *Message) {
		count[m.Outcome]++
		if m.Outcome == OutcomeDeferred && !m.Incomplete {
			t.Errorf("deferred but complete: %+v", m)
		}
	}})
	for ev, ok := r.Next(); ok; ev, ok = r.Next() {
		c.Add(ev)
	}
	c.Flush()
	st := c.Stats()
	if r.Stats().Unparsed != 0 || st.Reused != 0 || count[OutcomeDelivered] < 2000 || count[OutcomeBounced] == 0 || count[OutcomeRejected] == 0 || count[OutcomeDeferred] == 0 {
		t.Errorf("reader %+v correlator %+v outcomes %v", r.Stats(), st, count)
	}
}
