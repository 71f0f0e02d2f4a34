package daemon

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// LogWriter batches log lines: one write(2) per line costs more than the
// greylisting decision being logged, so lines are collected in memory and
// written every interval (or when 64 KiB are waiting). A crash loses at
// most the last interval's lines; Close writes everything out.
type LogWriter struct {
	mu   sync.Mutex
	w    *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

// NewLogWriter starts flushing w's buffer every interval.
func NewLogWriter(w io.Writer, interval time.Duration) *LogWriter {
	lw := &LogWriter{w: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(lw.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				lw.Flush()
			case <-lw.stop:
				lw.Flush()
				return
			}
		}
	}()
	return lw
}

// Write buffers one record; slog handlers write each record in one call,
// so records never interleave.
func (lw *LogWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Write(p)
}

// Flush writes out what is buffered.
func (lw *LogWriter) Flush() error {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.w.Flush()
}

// Close flushes and stops the flusher.
func (lw *LogWriter) Close() error {
	close(lw.stop)
	<-lw.done
	return nil
}
