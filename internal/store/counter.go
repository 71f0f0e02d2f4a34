package store

import (
	"errors"
	"math"
	"strconv"
)

// ErrNotCounter is returned by Incr when the key holds a value that is not a
// decimal int64; Incr must not silently reset data someone else wrote.
var ErrNotCounter = errors.New("store: value is not an integer counter")

// ErrCounterOverflow is returned by Incr when the result would not fit in an
// int64; wrapping around would turn a rate limit into its opposite.
var ErrCounterOverflow = errors.New("store: counter overflow")

// ParseCounter decodes a counter value (decimal ASCII, see Store.Incr).
// Implementations share it so every store accepts exactly the same values.
func ParseCounter(b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, ErrNotCounter
	}
	return n, nil
}

// AddCounter returns n+delta, or ErrCounterOverflow.
func AddCounter(n, delta int64) (int64, error) {
	if (delta > 0 && n > math.MaxInt64-delta) || (delta < 0 && n < math.MinInt64-delta) {
		return 0, ErrCounterOverflow
	}
	return n + delta, nil
}

// AppendCounter appends the stored form of n to dst.
func AppendCounter(dst []byte, n int64) []byte {
	return strconv.AppendInt(dst, n, 10)
}
