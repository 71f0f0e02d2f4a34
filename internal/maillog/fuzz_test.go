package maillog

import (
	"bytes"
	"strings"
	"testing"
)

// The seed corpora in testdata/fuzz/<FuzzName>/ are built from
// testdata/real_lines.txt (public lines, sources cited there).

func checkEvent(t *testing.T, line string, ev *Event) {
	for _, f := range []string{ev.QueueID, ev.To, ev.From, ev.Relay, ev.Reply, ev.Client, ev.MessageID, ev.Host} {
		if f != "" && !strings.Contains(line, f) {
			t.Fatalf("field %q not from line %q", f, line)
		}
	}
	if ev.Kind >= numKinds {
		t.Fatalf("kind %d", ev.Kind)
	}
}

func FuzzParse(f *testing.F) {
	for _, rl := range loadRealLines(f) {
		f.Add(rl.line)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var ev Event
		p := newParser()
		p.Parse(line, &ev)
		checkEvent(t, line, &ev)
	})
}

// FuzzPostfix fuzzes the Postfix message part under a fixed header.
func FuzzPostfix(f *testing.F) {
	for _, rl := range loadRealLines(f) {
		if i := strings.Index(rl.line, "postfix/"); i >= 0 {
			if j := strings.Index(rl.line[i:], ": "); j > 0 {
				f.Add(rl.line[i:i+j], rl.line[i+j+2:])
			}
		}
	}
	f.Fuzz(func(t *testing.T, tag, msg string) {
		line := "Nov 27 11:08:40 mx " + tag + ": " + msg
		var ev Event
		newParser().Parse(line, &ev)
		checkEvent(t, line, &ev)
	})
}

// FuzzExim fuzzes Exim main log lines after the timestamp.
func FuzzExim(f *testing.F) {
	for _, rl := range loadRealLines(f) {
		if len(rl.line) > 20 && rl.line[4] == '-' && rl.line[10] == ' ' {
			f.Add(rl.line[20:])
		}
	}
	f.Fuzz(func(t *testing.T, msg string) {
		line := "2026-11-27 11:08:40 " + msg
		var ev Event
		newParser().Parse(line, &ev)
		checkEvent(t, line, &ev)
	})
}

// FuzzReader fuzzes the line splitter and stream handling (gzip magic,
// overlong lines, missing final newline) with a small MaxLine.
func FuzzReader(f *testing.F) {
	var all bytes.Buffer
	for _, rl := range loadRealLines(f) {
		all.WriteString(rl.line + "\n")
	}
	f.Add(all.Bytes())
	f.Add([]byte{0x1f, 0x8b, 0, 0})
	f.Add([]byte("Nov 27 11:08:40 mx postfix/qmgr[1]: ABCDEF12: removed\r\nno newline"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(newParser(), ReaderSource("fuzz", bytes.NewReader(data)))
		r.MaxLine = 300
		n := int64(0)
		for {
			ev, ok := r.Next()
			if !ok {
				break
			}
			n++
			if len(ev.Line) > 300 {
				t.Fatalf("line longer than MaxLine: %d", len(ev.Line))
			}
		}
		st := r.Stats()
		if st.Lines != n+st.Overlong {
			t.Fatalf("lines %d, events %d, overlong %d", st.Lines, n, st.Overlong)
		}
	})
}
