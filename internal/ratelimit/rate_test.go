package ratelimit

import (
	"strings"
	"testing"
	"time"
)

func TestParseRate(t *testing.T) {
	tests := []struct {
		in   string
		want Rate
		str  string
	}{
		{"2/h", Rate{2, time.Hour}, "2/h"},
		{"100/day", Rate{100, day}, "100/d"},
		{"10/1m", Rate{10, time.Minute}, "10/m"},
		{"5/30s", Rate{5, 30 * time.Second}, "5/30s"},
		{"1000/d", Rate{1000, day}, "1000/d"},
		{"2 per hour", Rate{2, time.Hour}, "2/h"},
		{"20 per 30 minutes", Rate{20, 30 * time.Minute}, "20/30m"},
		{"  3 / 2 Hours ", Rate{3, 2 * time.Hour}, "3/2h"},
		{"3/1h30m", Rate{3, 90 * time.Minute}, "3/90m"},
		{"50/500ms", Rate{50, 500 * time.Millisecond}, "50/500ms"},
		{"1/ms", Rate{1, time.Millisecond}, "1/1ms"},
		{"7/1.5s", Rate{7, 1500 * time.Millisecond}, "7/1.5s"},
		{"1/w", Rate{1, 7 * day}, "1/7d"},
		{"2/H", Rate{2, time.Hour}, "2/h"},
		{"4/90s", Rate{4, 90 * time.Second}, "4/90s"},
		{"4/24h", Rate{4, day}, "4/d"},
		{"007/min", Rate{7, time.Minute}, "7/m"},
		{"1000000000000/3650d", Rate{MaxCount, MaxPeriod}, "1000000000000/3650d"},
		{"1/1ns", Rate{1, 1}, "1/1ns"},
	}
	for _, tt := range tests {
		got, err := ParseRate(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			continue
		}
		if s := got.String(); s != tt.str {
			t.Errorf("ParseRate(%q).String() = %q, want %q", tt.in, s, tt.str)
		}
		if back, err := ParseRate(got.String()); err != nil || back != got {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", got.String(), back, err, got)
		}
	}
}

func TestParseRateErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2/x", `ratelimit: rate "2/x": unknown unit "x" (use s, m, h, d or a duration like 30m)`},
		{"2/fortnight", `unknown unit "fortnight"`},
		{"2/3mo", `unknown unit "mo"`},
		{"", `want COUNT/PERIOD`},
		{"2h", `want COUNT/PERIOD`},
		{"2 an hour", `want COUNT/PERIOD`},
		{"/h", `missing count`},
		{"2/", `missing period`},
		{"0/h", `count must be at least 1`},
		{"-2/h", `count -2 must be positive`},
		{"+2/h", `count "+2" is not a whole number`},
		{"2.5/h", `count "2.5" is not a whole number`},
		{"two/h", `count "two" is not a whole number`},
		{"1000000000001/h", `count 1000000000001 is too large`},
		{"99999999999999999999/h", `too large`},
		{"2/0h", `period must be longer than zero`},
		{"2/0s", `period must be longer than zero`},
		{"2/-1h", `period must be longer than zero`},
		{"2/0.1ns", `period must be longer than zero`},
		{"2/3651d", `period 3651d is too long (at most 3650d)`},
		{"2/99999999999999999999h", `too long`},
		{"2/100000h", `too long`},
		{"2/30", `period "30" has no unit`},
		{"2/1h30", `bad period "1h30"`},
		{"2/h/2", `bad period "h/2"`},
		{"2/1e3s", `bad period`},
		{"2000/1us", `more than one per nanosecond`},
	}
	for _, tt := range tests {
		r, err := ParseRate(tt.in)
		if err == nil {
			t.Errorf("ParseRate(%q) = %v, want error containing %q", tt.in, r, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseRate(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
		}
		if !strings.HasPrefix(err.Error(), "ratelimit: rate ") {
			t.Errorf("ParseRate(%q) error = %q, want the ratelimit: rate prefix", tt.in, err)
		}
	}
}

func TestRateText(t *testing.T) {
	var r Rate
	if err := r.UnmarshalText([]byte("100/day")); err != nil || r != (Rate{100, day}) {
		t.Fatalf("UnmarshalText = %v, %v", r, err)
	}
	if b, _ := r.MarshalText(); string(b) != "100/d" {
		t.Errorf("MarshalText = %q", b)
	}
	if err := r.UnmarshalText([]byte("bad")); err == nil {
		t.Errorf("UnmarshalText(bad) accepted")
	}
	if r != (Rate{100, day}) {
		t.Errorf("failed UnmarshalText changed the value to %v", r)
	}
}

func TestRateValidate(t *testing.T) {
	for _, r := range []Rate{{}, {0, time.Hour}, {-1, time.Hour}, {1, 0}, {1, -time.Second}, {MaxCount + 1, time.Hour}, {1, MaxPeriod + 1}, {10, 9}} {
		if err := r.Validate(); err == nil {
			t.Errorf("%#v.Validate() = nil, want an error", r)
		}
		if _, err := NewLimit(r, 1); err == nil {
			t.Errorf("NewLimit(%#v, 1) accepted", r)
		}
	}
}
