package boltstore

import (
	"encoding/binary"
	"math"
	"time"
)

// A record is what bbolt stores for a key, and also what the overlay holds,
// so a commit writes overlay records as they are: 8-byte big-endian expiry in
// Unix nanoseconds, then the value. Records are never modified after they
// are built, which lets readers use them without holding a lock.
const headerLen = 8

// newRecord allocates a record with room for a value of n bytes.
func newRecord(exp int64, n int) []byte {
	rec := make([]byte, headerLen, headerLen+n)
	binary.BigEndian.PutUint64(rec, uint64(exp))
	return rec
}

func encode(value []byte, exp int64) []byte {
	return append(newRecord(exp, len(value)), value...)
}

// recordExp returns the expiry of a record of at least headerLen bytes.
func recordExp(rec []byte) int64 {
	return int64(binary.BigEndian.Uint64(rec))
}

// unixNano converts t, clamping the times UnixNano cannot represent (before
// 1678 or after 2262), so a zero time reads as long expired rather than as
// an arbitrary overflowed instant.
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minTime):
		return math.MinInt64
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)
