package engine

import (
	"sync"
	"time"
)

// Txn is the state of one SMTP transaction, keyed by the MTA's transaction
// id (Postfix's instance attribute): the same Txn is seen by the RCPT
// requests, the DATA request and the END-OF-MESSAGE request of a message.
// Checks keep their own values in it under their own name.
type Txn struct {
	mu   sync.Mutex
	vals map[string]any
}

// Get returns the value a check stored under key.
func (t *Txn) Get(key string) any {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.vals[key]
}

// Update runs f on the value stored under key and stores what f returns,
// atomically with respect to other requests of the same transaction.
func (t *Txn) Update(key string, f func(old any) any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.vals == nil {
		t.vals = make(map[string]any)
	}
	t.vals[key] = f(t.vals[key])
}

// txnTable maps transaction ids to their state. It forgets transactions by
// generations instead of per-entry timers: lookups move an entry into the
// current generation, and every rotation drops the older one. A transaction
// idle for two rotations is forgotten; nothing is ever scanned.
type txnTable struct {
	mu       sync.Mutex
	cur, old map[string]*Txn
	rotated  time.Time
	every    time.Duration
	max      int
}

func newTxnTable(every time.Duration, max int) *txnTable {
	return &txnTable{cur: make(map[string]*Txn), old: make(map[string]*Txn), every: every, max: max}
}

// get returns the Txn for id, creating it if needed.
func (tt *txnTable) get(id string, now time.Time) *Txn {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	switch idle := now.Sub(tt.rotated); {
	case idle >= 2*tt.every:
		// Nothing asked for two whole periods: both generations are stale.
		tt.old, tt.cur = make(map[string]*Txn), make(map[string]*Txn)
		tt.rotated = now
	case idle >= tt.every || len(tt.cur) >= tt.max:
		tt.old, tt.cur = tt.cur, make(map[string]*Txn, len(tt.cur))
		tt.rotated = now
	}
	if t, ok := tt.cur[id]; ok {
		return t
	}
	t, ok := tt.old[id]
	if ok {
		delete(tt.old, id)
	} else {
		t = &Txn{}
	}
	tt.cur[id] = t
	return t
}

// drop forgets a finished transaction.
func (tt *txnTable) drop(id string) {
	tt.mu.Lock()
	delete(tt.cur, id)
	delete(tt.old, id)
	tt.mu.Unlock()
}

func (tt *txnTable) len() int {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return len(tt.cur) + len(tt.old)
}
