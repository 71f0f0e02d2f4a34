package logfmt

import (
	"strconv"
	"sync/atomic"
	"time"
)

// stamp caches the formatted date and time of one second: consecutive
// lines nearly always share it, and formatting it is a third of a line's
// cost.
type stamp struct {
	sec  int64
	loc  *time.Location
	head string // "2006-01-02T15:04:05"
	zone string // "Z" or "+01:00"
}

var lastStamp atomic.Pointer[stamp]

// appendTime writes t as RFC 3339 with millis (text) or nanos (JSON), the
// precision slog's handlers use.
func appendTime(b []byte, t time.Time, nanos bool) []byte {
	s := lastStamp.Load()
	if s == nil || s.sec != t.Unix() || s.loc != t.Location() {
		z := t.Format("Z07:00")
		s = &stamp{sec: t.Unix(), loc: t.Location(), head: t.Format("2006-01-02T15:04:05"), zone: z}
		lastStamp.Store(s)
	}
	b = append(b, s.head...)
	ns := t.Nanosecond()
	if nanos {
		if ns != 0 {
			// RFC3339Nano: trailing zeros trimmed.
			var frac [10]byte
			f := strconv.AppendInt(frac[:0], int64(ns)+1e9, 10)[1:]
			for len(f) > 0 && f[len(f)-1] == '0' {
				f = f[:len(f)-1]
			}
			b = append(b, '.')
			b = append(b, f...)
		}
	} else {
		ms := ns / 1e6
		b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	}
	return append(b, s.zone...)
}
