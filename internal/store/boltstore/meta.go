package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

var (
	kvBucket   = []byte("kv")
	metaBucket = []byte("meta")
	versionKey = []byte("version")
	keysKey    = []byte("keys")
)

// formatVersion is bumped when the record layout changes, so an old binary
// refuses a newer file instead of misreading it.
const formatVersion = 1

// initMeta creates the buckets on first use and returns the stored key
// count. A write transaction (one fsync) only happens for a new file.
func initMeta(db *bolt.DB) (int64, error) {
	var keys int64
	ready := false
	err := db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(metaBucket)
		if meta == nil || tx.Bucket(kvBucket) == nil {
			return nil
		}
		if err := checkVersion(meta); err != nil {
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
		kv, err := tx.CreateBucketIfNotExists(kvBucket)
		if err != nil {
			return fmt.Errorf("create bucket: %w", err)
		}
		meta, err := tx.CreateBucketIfNotExists(metaBucket)
		if err != nil {
			return fmt.Errorf("create bucket: %w", err)
		}
		if meta.Get(versionKey) != nil {
			return checkVersion(meta)
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

func checkVersion(meta *bolt.Bucket) error {
	v := meta.Get(versionKey)
	if len(v) != 8 {
		return errors.New("meta: missing format version")
	}
	if got := decodeUint(v); got != formatVersion {
		return fmt.Errorf("meta: format version %d, this binary reads %d", got, formatVersion)
	}
	return nil
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
