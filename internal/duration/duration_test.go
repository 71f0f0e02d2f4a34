package duration

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"300", 300 * time.Second, false},
		{"300s", 300 * time.Second, false},
		{"5m", 5 * time.Minute, false},
		{"2d", 48 * time.Hour, false},
		{"35d", 35 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"100ms", 100 * time.Millisecond, false},
		{"", 0, true},
		{"-5s", 0, true},
		{"five", 0, true},
		{"xd", 0, true},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("Parse(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestString(t *testing.T) {
	if s := Duration(48 * time.Hour).String(); s != "2d" {
		t.Errorf("got %s", s)
	}
	if s := Duration(90 * time.Second).String(); s != "1m30s" {
		t.Errorf("got %s", s)
	}
}
