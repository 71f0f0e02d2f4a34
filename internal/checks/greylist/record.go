package greylist

import (
	"encoding/binary"
	"time"
)

// triplet is what the store keeps per (client network, sender, recipient).
// 16 bytes: first seen, and when it last passed (zero: still waiting).
type triplet struct {
	first  int64 // unix seconds of the first attempt
	passed int64 // unix seconds of the latest pass; 0 while greylisted
}

func (t triplet) encode() []byte {
	b := make([]byte, 16)
	binary.BigEndian.PutUint64(b[0:], uint64(t.first))
	binary.BigEndian.PutUint64(b[8:], uint64(t.passed))
	return b
}

func decodeTriplet(b []byte) (triplet, bool) {
	if len(b) != 16 {
		return triplet{}, false
	}
	return triplet{int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:]))}, true
}

// allowRec counts a client network's passes for the auto-allowlist.
type allowRec struct {
	count   uint32
	counted int64 // unix seconds when count was last increased
}

func (a allowRec) encode() []byte {
	b := make([]byte, 12)
	binary.BigEndian.PutUint32(b[0:], a.count)
	binary.BigEndian.PutUint64(b[4:], uint64(a.counted))
	return b
}

func decodeAllow(b []byte) (allowRec, bool) {
	if len(b) != 12 {
		return allowRec{}, false
	}
	return allowRec{binary.BigEndian.Uint32(b), int64(binary.BigEndian.Uint64(b[4:]))}, true
}

func unix(t time.Time) int64 { return t.Unix() }
