package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/tempfail/tempfail/internal/store"
)

var badKeyCases = []suiteCase{
	{"BadKeys", testBadKeys},
}

// testBadKeys checks that keys no store can hold are refused up front, not
// accepted and lost later (a write-behind store would fail at flush time).
func testBadKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPut(t, s, strings.Repeat("k", store.MaxKeyLen), []byte("longest"), future())
	wantValue(t, s, strings.Repeat("k", store.MaxKeyLen), []byte("longest"))
	for _, key := range []string{"", strings.Repeat("k", store.MaxKeyLen+1)} {
		ops := []struct {
			name string
			call func() error
		}{
			{"Get", func() error { _, _, err := s.Get(ctx, key); return err }},
			{"Put", func() error { return s.Put(ctx, key, []byte("x"), future()) }},
			{"Delete", func() error { return s.Delete(ctx, key) }},
			{"CompareAndSwap", func() error { _, err := s.CompareAndSwap(ctx, key, nil, []byte("x"), future()); return err }},
			{"Incr", func() error { _, err := s.Incr(ctx, key, 1, future()); return err }},
		}
		for _, op := range ops {
			if err := op.call(); !errors.Is(err, store.ErrBadKey) {
				t.Errorf("%s with %d-byte key = %v, want ErrBadKey", op.name, len(key), err)
			}
		}
	}
}
