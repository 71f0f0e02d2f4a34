package ratelimit

import (
	"strconv"
	"time"
)

// FormatWait writes a wait for an SMTP reply, rounded up so that a client
// coming back after it is never early: "45 seconds", "28 minutes",
// "2 hours", "1 hour 5 minutes", "3 days 2 hours". Under a minute it counts
// seconds, under an hour minutes, under a day hours and minutes, beyond
// that days and hours. It never says "0 seconds": a wait of 0 or less is
// "1 second".
func FormatWait(d time.Duration) string {
	if d < time.Minute {
		if s := ceilDur(d, time.Second); s < 60 {
			return plural(max(s, 1), "second")
		}
	}
	if d < time.Hour {
		if m := ceilDur(d, time.Minute); m < 60 {
			return plural(m, "minute")
		}
	}
	if d < day {
		m := ceilDur(d, time.Minute)
		if h := m / 60; h < 24 {
			return pair(h, "hour", m%60, "minute")
		}
	}
	h := ceilDur(d, time.Hour)
	return pair(h/24, "day", h%24, "hour")
}

// ceilDur is d/unit rounded up, for d >= 0.
func ceilDur(d, unit time.Duration) int64 {
	return ceilDiv(int64(max(d, 0)), int64(unit))
}

func pair(a int64, aUnit string, b int64, bUnit string) string {
	if b == 0 {
		return plural(a, aUnit)
	}
	return plural(a, aUnit) + " " + plural(b, bUnit)
}

func plural(n int64, unit string) string {
	s := strconv.FormatInt(n, 10) + " " + unit
	if n != 1 {
		s += "s"
	}
	return s
}
