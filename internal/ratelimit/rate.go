package ratelimit

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rate is "Count per Period": Count units of cost (connections, messages,
// recipients or bytes) per Period.
type Rate struct {
	Count  int64
	Period time.Duration
}

// Limits of the rate grammar. They keep every derived quantity far from
// int64 overflow and reject rates no mail system means.
const (
	// MaxCount is the largest Count: a terabyte of bytes per period.
	MaxCount = 1_000_000_000_000
	// MaxPeriod is the longest Period, ten years of 365 days.
	MaxPeriod = 3650 * day
)

const (
	day  = 24 * time.Hour
	week = 7 * day
)

// units are the period words ParseRate accepts, lower case.
var units = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "secs": time.Second, "second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute, "minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour, "hour": time.Hour, "hours": time.Hour,
	"d": day, "day": day, "days": day,
	"w": week, "week": week, "weeks": week,
	"ms": time.Millisecond,
}

// ParseRate reads a rate. The grammar, case-insensitive, blanks allowed
// around the separator and between an amount and its unit:
//
//	rate   = count "/" period | count "per" period
//	count  = a whole number from 1 to MaxCount, no sign
//	period = [amount] unit | Go duration
//	amount = a whole number of units, at least 1 (default 1)
//	unit   = s sec second(s) | m min minute(s) | h hr hour(s) | d day(s) | w week(s)
//
// Examples: "2/h", "100/day", "10/1m", "5/30s", "1000/d", "2 per hour",
// "20 per 30 minutes", "3/1h30m", "50/500ms". "m" is minutes, never months.
// Period must be more than zero and at most MaxPeriod, and the rate at
// most one per nanosecond. Errors name the input and what is wrong with it.
func ParseRate(s string) (Rate, error) {
	count, period, ok := splitRate(s)
	if !ok {
		return Rate{}, rateErr(s, "want COUNT/PERIOD, for example 2/h, 100/d or 10/30m")
	}
	n, err := parseCount(count)
	if err != nil {
		return Rate{}, rateErr(s, err.Error())
	}
	p, err := parsePeriod(period)
	if err != nil {
		return Rate{}, rateErr(s, err.Error())
	}
	r := Rate{Count: n, Period: p}
	if err := r.check(); err != nil {
		return Rate{}, rateErr(s, err.Error())
	}
	return r, nil
}

func rateErr(s, msg string) error {
	return fmt.Errorf("ratelimit: rate %q: %s", s, msg)
}

// splitRate cuts s at "/" or at the word "per".
func splitRate(s string) (count, period string, ok bool) {
	if c, p, ok := strings.Cut(s, "/"); ok {
		return strings.TrimSpace(c), strings.TrimSpace(p), true
	}
	f := strings.Fields(s)
	for i, w := range f {
		if strings.EqualFold(w, "per") {
			return strings.Join(f[:i], " "), strings.Join(f[i+1:], " "), true
		}
	}
	return "", "", false
}

func parseCount(s string) (int64, error) {
	switch {
	case s == "":
		return 0, fmt.Errorf("missing count before the period")
	case s[0] == '-':
		return 0, fmt.Errorf("count %s must be positive", s)
	case !allDigits(s):
		return 0, fmt.Errorf("count %q is not a whole number", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n > MaxCount {
		return 0, fmt.Errorf("count %s is too large (at most %d)", s, int64(MaxCount))
	}
	if n == 0 {
		return 0, fmt.Errorf("count must be at least 1")
	}
	return n, nil
}

const periodHelp = "use s, m, h, d or a duration like 30m"

func parsePeriod(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("missing period after the count (%s)", periodHelp)
	}
	ls := strings.ToLower(s)
	i := 0
	for i < len(ls) && ls[i] >= '0' && ls[i] <= '9' {
		i++
	}
	amount, unit := ls[:i], strings.TrimSpace(ls[i:])
	if base, ok := units[unit]; ok {
		n := int64(1)
		if amount != "" {
			var err error
			n, err = strconv.ParseInt(amount, 10, 64)
			if err != nil || n > int64(MaxPeriod/base) {
				return 0, fmt.Errorf("period %s is too long (at most %s)", s, fmtPeriod(MaxPeriod))
			}
			if n == 0 {
				return 0, fmt.Errorf("period must be longer than zero")
			}
		}
		return time.Duration(n) * base, nil
	}
	d, err := time.ParseDuration(strings.ReplaceAll(ls, " ", ""))
	if err != nil {
		switch {
		case unit != "" && allLetters(unit):
			return 0, fmt.Errorf("unknown unit %q (%s)", unit, periodHelp)
		case unit == "":
			return 0, fmt.Errorf("period %q has no unit (%s)", s, periodHelp)
		}
		return 0, fmt.Errorf("bad period %q (%s)", s, periodHelp)
	}
	if d <= 0 {
		return 0, fmt.Errorf("period must be longer than zero")
	}
	return d, nil
}

// check reports what makes r unusable, if anything.
func (r Rate) check() error {
	switch {
	case r.Count < 1:
		return fmt.Errorf("count must be at least 1")
	case r.Count > MaxCount:
		return fmt.Errorf("count %d is too large (at most %d)", r.Count, int64(MaxCount))
	case r.Period <= 0:
		return fmt.Errorf("period must be longer than zero")
	case r.Period > MaxPeriod:
		return fmt.Errorf("period %s is too long (at most %s)", r.Period, fmtPeriod(MaxPeriod))
	case r.Count > int64(r.Period):
		return fmt.Errorf("more than one per nanosecond")
	}
	return nil
}

// Validate reports whether r is a rate ParseRate could have returned.
func (r Rate) Validate() error {
	if err := r.check(); err != nil {
		return fmt.Errorf("ratelimit: rate %d per %s: %s", r.Count, r.Period, err)
	}
	return nil
}

// String is the canonical form, short enough for SMTP replies: "2/h",
// "100/d", "10/30m", "5/90s", "50/500ms". ParseRate reads it back to the
// same Rate.
func (r Rate) String() string {
	return strconv.FormatInt(r.Count, 10) + "/" + fmtPeriod(r.Period)
}

// fmtPeriod writes d in the largest unit that divides it, omitting an
// amount of 1: "h", "30m", "2d"; otherwise as a Go duration ("1.5s").
func fmtPeriod(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{day, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d > 0 && d%u.d == 0 {
			if d == u.d {
				return u.name
			}
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return d.String()
}

// MarshalText implements encoding.TextMarshaler (config files).
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler (config files).
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}
