package greylist

import "testing"

func TestPendingCounts(t *testing.T) {
	var p pendingCounts
	const span = 100
	steps := []struct {
		net  string
		now  int64
		want int
	}{
		{"192.0.2.0/24", 1000, 1},
		{"192.0.2.0/24", 1050, 2},
		{"198.51.100.0/24", 1050, 1}, // networks count apart
		{"192.0.2.0/24", 1150, 3},    // next generation still sees the previous one
		{"192.0.2.0/24", 1210, 2},    // the first generation (1000-1099) has aged out
		{"192.0.2.0/24", 1500, 1},    // a long gap starts over
		{"192.0.2.0/24", 900, 1},     // a clock step back starts over too
	}
	for i, s := range steps {
		if got := p.add(s.net, s.now, span); got != s.want {
			t.Errorf("step %d (%s at %d): count %d, want %d", i, s.net, s.now, got, s.want)
		}
	}
}
