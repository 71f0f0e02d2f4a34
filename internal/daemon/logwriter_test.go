package daemon

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLogWriterFlushesPeriodicallyAndOnClose(t *testing.T) {
	var out lockedBuf
	lw := NewLogWriter(&out, 10*time.Millisecond)
	lw.Write([]byte("one\n"))
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "one\n") {
		if time.Now().After(deadline) {
			t.Fatal("line never flushed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	lw2 := NewLogWriter(&out, time.Hour)
	lw2.Write([]byte("two\n"))
	lw2.Close()
	if !strings.Contains(out.String(), "two\n") {
		t.Fatal("Close did not flush")
	}
	lw.Close()
}
