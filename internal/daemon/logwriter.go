package daemon

import (
	"io"
	"sync"
	"time"
)

// LogWriter batches log lines: one write(2) per line costs more than the
// greylisting decision being logged, so lines are collected in memory and
// written every interval (or as soon as 64 KiB are waiting). A crash loses
// at most the last interval's lines; Close writes everything out.
//
// Writers only append to a buffer under a short lock; the flusher swaps
// buffers and does the slow write outside it, so a slow log destination
// never stalls a policy answer.
type LogWriter struct {
	mu      sync.Mutex // guards buf
	buf     []byte
	flushMu sync.Mutex // one flush at a time, in order
	spare   []byte
	w       io.Writer
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

const logBufSize = 64 << 10

// NewLogWriter starts flushing to w every interval.
func NewLogWriter(w io.Writer, interval time.Duration) *LogWriter {
	lw := &LogWriter{
		w: w, buf: make([]byte, 0, logBufSize), spare: make([]byte, 0, logBufSize),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go func() {
		defer close(lw.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
			case <-lw.kick:
			case <-lw.stop:
				lw.Flush()
				return
			}
			lw.Flush()
		}
	}()
	return lw
}

// Write buffers one record; slog handlers write each record in one call,
// so records never interleave.
func (lw *LogWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	lw.buf = append(lw.buf, p...)
	full := len(lw.buf) >= logBufSize
	lw.mu.Unlock()
	if full {
		select {
		case lw.kick <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// Flush writes out what is buffered.
func (lw *LogWriter) Flush() error {
	lw.flushMu.Lock()
	defer lw.flushMu.Unlock()
	lw.mu.Lock()
	out := lw.buf
	lw.buf = lw.spare[:0]
	lw.mu.Unlock()
	var err error
	if len(out) > 0 {
		_, err = lw.w.Write(out)
	}
	if cap(out) > 4*logBufSize {
		out = make([]byte, 0, logBufSize) // after a burst, give the memory back
	}
	lw.spare = out[:0]
	return err
}

// Close flushes and stops the flusher.
func (lw *LogWriter) Close() error {
	close(lw.stop)
	<-lw.done
	return nil
}
