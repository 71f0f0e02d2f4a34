package storetest

import (
	"errors"
	"testing"

	"github.com/tempfail/tempfail/internal/store"
)

var closedCases = []suiteCase{
	{"Closed", testClosed},
}

func testClosed(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustPut(t, s, "k", []byte("v"), future())
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ops := []struct {
		name string
		call func() error
	}{
		{"Get", func() error { _, _, err := s.Get(ctx, "k"); return err }},
		{"GetMissing", func() error { _, _, err := s.Get(ctx, "missing"); return err }},
		{"Put", func() error { return s.Put(ctx, "k", []byte("x"), future()) }},
		{"Delete", func() error { return s.Delete(ctx, "k") }},
		{"CompareAndSwap", func() error { _, err := s.CompareAndSwap(ctx, "k", nil, []byte("x"), future()); return err }},
		{"Incr", func() error { _, err := s.Incr(ctx, "c", 1, future()); return err }},
		{"Close", s.Close},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) {
			if err := op.call(); !errors.Is(err, store.ErrClosed) {
				t.Fatalf("%s after Close = %v, want ErrClosed", op.name, err)
			}
		})
	}
}
