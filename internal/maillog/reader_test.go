package maillog

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestSortRotated(t *testing.T) {
	in := []string{"/var/log/mail.log", "/var/log/mail.log.1", "/var/log/mail.log.2.gz", "/var/log/mail.log.10.gz",
		"/var/log/mail.err", "/var/log/mail.log.3.gz", "/x/maillog-20261126", "/x/maillog", "/x/maillog-20261125.gz"}
	want := []string{"/var/log/mail.log.10.gz", "/var/log/mail.log.3.gz", "/var/log/mail.log.2.gz", "/var/log/mail.log.1", "/var/log/mail.log",
		"/var/log/mail.err", "/x/maillog-20261125.gz", "/x/maillog-20261126", "/x/maillog"}
	if got := SortRotated(in); !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func gz(t *testing.T, s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// TestReaderFiles: a rotated set (gzip detected by magic, not name), CRLF,
// junk, an overlong line, a final line without newline; line numbers and
// samples per file; year state carried across files.
func TestReaderFiles(t *testing.T) {
	dir := t.TempDir()
	old := "Dec 31 23:59:58 mx postfix/qmgr[1]: ABCDEF12: removed\n"
	mid := "Dec 31 23:59:59 mx postfix/qmgr[1]: ABCDEF13: removed\r\n\x00\x01junk\xff\n" + strings.Repeat("x", 3000) + "\n"
	cur := "Jan  1 00:00:01 mx postfix/qmgr[1]: ABCDEF14: removed"
	os.WriteFile(filepath.Join(dir, "mail.log.2.gz"), gz(t, old), 0o644)
	os.WriteFile(filepath.Join(dir, "mail.log.1"), gz(t, mid), 0o644) // compressed without .gz
	os.WriteFile(filepath.Join(dir, "mail.log"), []byte(cur), 0o644)
	paths := []string{filepath.Join(dir, "mail.log"), filepath.Join(dir, "mail.log.1"), filepath.Join(dir, "mail.log.2.gz"), filepath.Join(dir, "missing.log")}
	p := &Parser{Location: time.UTC, Reference: time.Date(2027, 1, 1, 1, 0, 0, 0, time.UTC)}
	r := NewReader(p, Files(paths...)...)
	r.MaxLine = 1024
	var ids []string
	var years []int
	for {
		ev, ok := r.Next()
		if !ok {
			break
		}
		if ev.Kind == KindRemoved {
			ids = append(ids, ev.QueueID)
			years = append(years, ev.Time.Year())
			if ev.QueueID == "ABCDEF13" && (ev.LineNo != 1 || !strings.HasSuffix(ev.File, "mail.log.1") || strings.HasSuffix(ev.Line, "\r")) {
				t.Errorf("position %s:%d line %q", ev.File, ev.LineNo, ev.Line)
			}
		}
	}
	if !reflect.DeepEqual(ids, []string{"ABCDEF12", "ABCDEF13", "ABCDEF14"}) || !reflect.DeepEqual(years, []int{2026, 2026, 2027}) {
		t.Errorf("ids %v years %v", ids, years)
	}
	st := r.Stats()
	if st.Lines != 5 || st.Unparsed != 2 || st.Overlong != 1 || st.Postfix != 3 || st.Files != 3 || st.OpenErrors != 1 {
		t.Errorf("stats %+v", st)
	}
	if len(st.Samples) != 2 || st.Samples[0].Line != 2 || st.Samples[1].Line != 3 || !strings.HasPrefix(st.Samples[1].Text, "(overlong") {
		t.Errorf("samples %+v", st.Samples)
	}
	if r.Err() == nil {
		t.Error("missing file: no error reported")
	}
}

func TestReaderStdinGzip(t *testing.T) {
	r := NewReader(nil, ReaderSource("-", bytes.NewReader(gz(t, "Nov 27 11:08:40 mx postfix/qmgr[1]: ABCDEF12: removed\n"))))
	ev, ok := r.Next()
	if !ok || ev.Kind != KindRemoved || ev.File != "-" {
		t.Fatalf("%v %+v", ok, ev)
	}
}

// TestFollow appends, rotates by rename, and truncates a file while a
// Reader follows it.
func TestFollow(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mail.log")
	line := func(id string) string { return "Nov 27 11:08:40 mx postfix/qmgr[1]: " + id + ": removed\n" }
	os.WriteFile(path, []byte(line("AAAAAA01")), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := NewReader(nil, FollowSource(ctx, path, FollowOptions{Poll: 10 * time.Millisecond, FromStart: true}))
	got := make(chan string, 10)
	go func() {
		for {
			ev, ok := r.Next()
			if !ok {
				close(got)
				return
			}
			got <- ev.QueueID
		}
	}()
	expect := func(id string) {
		t.Helper()
		select {
		case g := <-got:
			if g != id {
				t.Fatalf("got %s, want %s", g, id)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("timeout waiting for %s", id)
		}
	}
	expect("AAAAAA01")
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(line("AAAAAA02")[:20]) // half a line first
	time.Sleep(30 * time.Millisecond)
	f.WriteString(line("AAAAAA02")[20:])
	f.Close()
	expect("AAAAAA02")
	// rotate: rename and create a new file
	os.Rename(path, path+".1")
	os.WriteFile(path, []byte(line("AAAAAA03")), 0o644)
	expect("AAAAAA03")
	// copytruncate
	os.WriteFile(path, []byte(line("AAAAAA04")[:0]), 0o644)
	time.Sleep(50 * time.Millisecond)
	f, _ = os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(line("AAAAAA04"))
	f.Close()
	expect("AAAAAA04")
	cancel()
	for range got {
	}
}

func TestPumpSameAsNext(t *testing.T) {
	var lines []string
	for i := 0; i < 1000; i++ {
		lines = append(lines, fmt.Sprintf("Nov 27 11:00:%02d mx postfix/qmgr[1]: %X: removed", i%60, 0x10000+i))
		if i%7 == 0 {
			lines = append(lines, "garbage line")
		}
	}
	in := strings.Join(lines, "\n") + "\n"
	read := func(pump bool) ([]string, Stats) {
		r := NewReader(&Parser{}, ReaderSource("x", strings.NewReader(in)))
		var got []string
		f := func(ev *Event) { got = append(got, fmt.Sprintf("%d %s %s", ev.LineNo, ev.Kind, ev.QueueID)) }
		if pump {
			Pump(r, f)
		} else {
			for ev, ok := r.Next(); ok; ev, ok = r.Next() {
				f(ev)
			}
		}
		return got, r.Stats()
	}
	a, sa := read(false)
	b, sb := read(true)
	if strings.Join(a, "\n") != strings.Join(b, "\n") || sa.Lines != sb.Lines || sa.Unparsed != sb.Unparsed {
		t.Fatalf("Pump differs from Next: %d vs %d events, stats %+v vs %+v", len(a), len(b), sa, sb)
	}
	if sa.Lines != int64(len(lines)) || sa.Unparsed != 143 {
		t.Fatalf("stats %+v", sa)
	}
}
