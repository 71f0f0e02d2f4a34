package engine

import (
	"sync"
	"time"
)

// Txn is the state of one SMTP transaction, keyed by the MTA's transaction
// id (Postfix's instance attribute): the same state is seen by the RCPT
// requests, the DATA request and the END-OF-MESSAGE request of a message.
// Checks keep their own values in it under their own name.
//
// A Txn is a handle: the state is only allocated when a check first
// stores something, so the many transactions no check cares about cost a
// map lookup, not an entry in the table.
type Txn struct {
	table *txnTable
	id    string
	now   time.Time
	st    *txnState
}

type txnState struct {
	mu sync.Mutex
	// vals is a short list, not a map: a transaction holds a value or two
	// (trust, greylisting's pending triplets), and a map would be a second
	// allocation on every transaction.
	vals   []txnVal
	inline [2]txnVal
}

type txnVal struct {
	key string
	val any
}

func (st *txnState) find(key string) int {
	for i := range st.vals {
		if st.vals[i].key == key {
			return i
		}
	}
	return -1
}

// Get returns the value a check stored under key.
func (t *Txn) Get(key string) any {
	st := t.st
	if st == nil {
		if st = t.table.lookup(t.id, t.now); st == nil {
			return nil
		}
		t.st = st
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if i := st.find(key); i >= 0 {
		return st.vals[i].val
	}
	return nil
}

// Update runs f on the value stored under key and stores what f returns,
// atomically with respect to other requests of the same transaction.
func (t *Txn) Update(key string, f func(old any) any) {
	if t.st == nil {
		t.st = t.table.get(t.id, t.now)
	}
	st := t.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if i := st.find(key); i >= 0 {
		st.vals[i].val = f(st.vals[i].val)
		return
	}
	if st.vals == nil {
		st.vals = st.inline[:0]
	}
	st.vals = append(st.vals, txnVal{key, f(nil)})
}

// txnTable maps transaction ids to their state. It forgets transactions by
// generations instead of per-entry timers: lookups move an entry into the
// current generation, and every rotation drops the older one. A transaction
// idle for two rotations is forgotten; nothing is ever scanned.
type txnTable struct {
	mu       sync.Mutex
	cur, old map[string]*txnState
	rotated  time.Time
	every    time.Duration
	max      int
}

func newTxnTable(every time.Duration, max int) *txnTable {
	return &txnTable{cur: make(map[string]*txnState), old: make(map[string]*txnState), every: every, max: max}
}

// rotate ages the generations; the caller holds the lock.
func (tt *txnTable) rotate(now time.Time) {
	switch idle := now.Sub(tt.rotated); {
	case idle >= 2*tt.every:
		// Nothing asked for two whole periods: both generations are stale.
		tt.old, tt.cur = make(map[string]*txnState), make(map[string]*txnState)
		tt.rotated = now
	case idle >= tt.every || len(tt.cur) >= tt.max:
		tt.old, tt.cur = tt.cur, make(map[string]*txnState, len(tt.cur))
		tt.rotated = now
	}
}

// lookup returns the state for id, or nil if no check stored any.
func (tt *txnTable) lookup(id string, now time.Time) *txnState {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.lookupLocked(id, now)
}

func (tt *txnTable) lookupLocked(id string, now time.Time) *txnState {
	tt.rotate(now)
	if t, ok := tt.cur[id]; ok {
		return t
	}
	if t, ok := tt.old[id]; ok {
		delete(tt.old, id)
		tt.cur[id] = t
		return t
	}
	return nil
}

// get returns the state for id, creating it if needed.
func (tt *txnTable) get(id string, now time.Time) *txnState {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if t := tt.lookupLocked(id, now); t != nil {
		return t
	}
	t := &txnState{}
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
