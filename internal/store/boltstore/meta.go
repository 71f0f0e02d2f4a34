package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

var (
	kvBucket   = []byte("kv")
	logBucket  = []byte("log")
	metaBucket = []byte("meta")
	versionKey = []byte("version")
	keysKey    = []byte("keys")
	// mergedKey, present while a merge is unfinished, holds its progress:
	// the 8-byte sequence number of the last log record its snapshot
	// covers, then the last key it has written to kv (see replay).
	mergedKey = []byte("merged")
)

// formatVersion is bumped when the layout changes, so an old binary refuses
// a newer file instead of misreading it. Version 2 added bucket "log": a
// version 1 binary would ignore it and silently lose the writes not merged
// into kv yet. A version 1 file is upgraded in place (it only lacks the
// empty log).
const formatVersion = 2

// initMeta creates the buckets on first use and returns the stored key
// count. A write transaction (one fsync) only happens for a new or
// upgraded file.
func initMeta(db *bolt.DB) (int64, error) {
	var keys int64
	ready := false
	err := db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(metaBucket)
		if meta == nil || tx.Bucket(kvBucket) == nil {
			return nil
		}
		v, err := checkVersion(meta)
		if err != nil || v != formatVersion || tx.Bucket(logBucket) == nil {
			return err
		}
		keys = int64(decodeUint(meta.Get(keysKey)))
		ready = true
		return nil
	})
	if err != nil || ready {
		return keys, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		var kv *bolt.Bucket
		for _, name := range [][]byte{kvBucket, logBucket, metaBucket} {
			b, err := tx.CreateBucketIfNotExists(name)
			if err != nil {
				return fmt.Errorf("create bucket: %w", err)
			}
			if kv == nil {
				kv = b
			}
		}
		meta := tx.Bucket(metaBucket)
		if meta.Get(versionKey) != nil {
			if _, err := checkVersion(meta); err != nil {
				return err
			}
			keys = int64(decodeUint(meta.Get(keysKey)))
			return meta.Put(versionKey, encodeUint(formatVersion))
		}
		if err := meta.Put(versionKey, encodeUint(formatVersion)); err != nil {
			return err
		}
		// Only reached for a file written before the meta bucket existed;
		// counting once is cheaper than being wrong forever.
		keys = int64(kv.Stats().KeyN)
		return putKeyCount(tx, keys)
	})
	return keys, err
}

// checkVersion returns the file's format version if this binary reads it.
func checkVersion(meta *bolt.Bucket) (uint64, error) {
	v := meta.Get(versionKey)
	if len(v) != 8 {
		return 0, errors.New("meta: missing format version")
	}
	if got := decodeUint(v); got < 1 || got > formatVersion {
		return 0, fmt.Errorf("meta: format version %d, this binary reads 1 to %d", got, formatVersion)
	}
	return decodeUint(v), nil
}

func putKeyCount(tx *bolt.Tx, n int64) error {
	if n < 0 {
		n = 0
	}
	return tx.Bucket(metaBucket).Put(keysKey, encodeUint(uint64(n)))
}

func encodeUint(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func decodeUint(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}
