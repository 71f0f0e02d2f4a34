package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
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

// A log record (the value of one entry in bucket "log") is one committed
// batch: a uvarint entry count, then per entry a uvarint key length, the
// key, a uvarint of the record length plus one (0: tombstone) and the
// record. Lengths make it self-delimiting, so decoding a damaged value
// fails instead of inventing keys.

// encodeBatch encodes batch as a log record.
func encodeBatch(batch map[string][]byte) []byte {
	n := binary.MaxVarintLen64
	for k, rec := range batch {
		n += 2*binary.MaxVarintLen64 + len(k) + len(rec)
	}
	buf := make([]byte, 0, n)
	buf = binary.AppendUvarint(buf, uint64(len(batch)))
	for k, rec := range batch {
		buf = binary.AppendUvarint(buf, uint64(len(k)))
		buf = append(buf, k...)
		if rec == nil {
			buf = binary.AppendUvarint(buf, 0)
			continue
		}
		buf = binary.AppendUvarint(buf, uint64(len(rec))+1)
		buf = append(buf, rec...)
	}
	return buf
}

// batchLen returns the entry count a log record starts with, 0 if it is
// unreadable (decodeBatch then reports why).
func batchLen(buf []byte) int {
	count, n := binary.Uvarint(buf)
	if n <= 0 || count > uint64(len(buf)) {
		return 0
	}
	return int(count)
}

// decodeBatch calls f with each entry of a log record (rec nil: tombstone)
// for which skip (if not nil) returns false, in the order they were
// encoded. buf is bbolt's memory, valid only inside
// its transaction, so keys and records are copied out: into one string
// holding all the record's keys and one slice holding all its records,
// because replaying a long log at Open is dominated by allocation
// otherwise. Records are immutable, so sharing the backing array is safe;
// it is freed when the last entry of the batch is merged or overwritten.
func decodeBatch(buf []byte, skip func(key []byte) bool, f func(key string, rec []byte)) error {
	var keyBytes, recBytes int
	if err := walkBatch(buf, func(key, rec []byte) {
		if skip == nil || !skip(key) {
			keyBytes += len(key)
			recBytes += len(rec)
		}
	}); err != nil {
		return err
	}
	var kb strings.Builder // String() hands over its buffer without a copy
	kb.Grow(keyBytes)
	recs := make([]byte, 0, recBytes)
	return walkBatch(buf, func(key, rec []byte) {
		if skip != nil && skip(key) {
			return
		}
		from := kb.Len()
		kb.Write(key)
		k := kb.String()[from:]
		if rec != nil {
			from = len(recs)
			recs = append(recs, rec...)
			rec = recs[from:len(recs):len(recs)]
		}
		f(k, rec)
	})
}

// walkBatch checks a log record and calls f with each entry, key and rec
// aliasing buf.
func walkBatch(buf []byte, f func(key, rec []byte)) error {
	count, n := binary.Uvarint(buf)
	if n <= 0 {
		return errors.New("bad entry count")
	}
	buf = buf[n:]
	for i := uint64(0); i < count; i++ {
		kl, n := binary.Uvarint(buf)
		if n <= 0 || kl == 0 || kl > uint64(len(buf)-n) {
			return fmt.Errorf("entry %d: bad key length", i)
		}
		key := buf[n : n+int(kl)]
		buf = buf[n+int(kl):]
		rl, n := binary.Uvarint(buf)
		if n <= 0 || rl > uint64(len(buf)-n)+1 || rl != 0 && rl-1 < headerLen {
			return fmt.Errorf("entry %d: bad record length", i)
		}
		buf = buf[n:]
		var rec []byte
		if rl > 0 {
			rec = buf[:rl-1]
			buf = buf[rl-1:]
		}
		f(key, rec)
	}
	if len(buf) != 0 {
		return fmt.Errorf("%d trailing bytes", len(buf))
	}
	return nil
}
