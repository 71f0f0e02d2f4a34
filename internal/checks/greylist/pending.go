package greylist

import "sync"

// pendingCounts counts, per client network, the triplets stored in about
// the last retry window, in memory. max_pending_per_network only has to
// stop one network from growing the store without bound, which needs
// neither durability nor agreement between MX hosts; kept in the store
// it was one more write for every new triplet, the most common request
// there is. After a restart, or with several MX hosts, each process
// counts on its own: the cap then bounds each process's share.
//
// Two generations of half a window each: a triplet counts for between
// half a window and a whole one, with no per-entry expiry to sweep.
type pendingCounts struct {
	shards [32]pendingShard
}

type pendingShard struct {
	mu        sync.Mutex
	gen       int64 // generation of cur: unix time / span
	cur, prev map[string]int32
}

// add counts one new triplet for net at unix time now and returns the
// network's count including it. span is the generation length in seconds.
func (p *pendingCounts) add(net string, now, span int64) int {
	if span < 1 {
		span = 1
	}
	s := &p.shards[fnv32(net)%uint32(len(p.shards))]
	s.mu.Lock()
	defer s.mu.Unlock()
	if g := now / span; g != s.gen || s.cur == nil {
		if g == s.gen+1 {
			s.prev = s.cur
		} else {
			s.prev = nil // a long idle gap (or a clock step back): start over
		}
		s.cur, s.gen = make(map[string]int32), g
	}
	n := s.cur[net]
	if n < 1<<30 {
		n++
	}
	s.cur[net] = n
	return int(n) + int(s.prev[net])
}

// fnv32 is FNV-1a: the shard of a network.
func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
