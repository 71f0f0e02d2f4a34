package ratelimit

import (
	"math"
	"testing"
	"time"
)

func TestFormatWait(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Hour, "1 second"},
		{0, "1 second"},
		{1, "1 second"},
		{time.Second, "1 second"},
		{time.Second + 1, "2 seconds"},
		{45 * time.Second, "45 seconds"},
		{59 * time.Second, "59 seconds"},
		{59*time.Second + 1, "1 minute"},
		{time.Minute, "1 minute"},
		{time.Minute + 1, "2 minutes"},
		{27 * time.Minute, "27 minutes"},
		{27*time.Minute + 3*time.Second, "28 minutes"}, // rounded up: 27 would be 3 s early
		{30 * time.Minute, "30 minutes"},
		{59*time.Minute + 30*time.Second, "1 hour"},
		{time.Hour, "1 hour"},
		{time.Hour + time.Second, "1 hour 1 minute"},
		{65 * time.Minute, "1 hour 5 minutes"},
		{2 * time.Hour, "2 hours"},
		{23*time.Hour + 59*time.Minute + 1, "1 day"},
		{day, "1 day"},
		{day + 1, "1 day 1 hour"},
		{50 * time.Hour, "2 days 2 hours"},
		{3 * day, "3 days"},
		{math.MaxInt64, "106752 days"},
	}
	for _, tt := range tests {
		if got := FormatWait(tt.d); got != tt.want {
			t.Errorf("FormatWait(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
