// Package duration is the duration type of tempfail's config file: Go
// durations ("300s", "1h30m") plus days ("2d", "35d") because mail admins
// think of greylisting windows in days, and bare integers as seconds, the
// unit postgrey's --delay uses.
package duration

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that decodes from TOML strings or integers.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Parse reads "300", "300s", "5m", "2d", "1d12h".
func Parse(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return seconds(n)
	}
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.ParseFloat(s[:i], 64)
		if err == nil && n > maxDays {
			return 0, fmt.Errorf("duration %q is too long (at most %d days)", s, maxDays)
		}
		if err != nil || n < 0 {
			return 0, fmt.Errorf("invalid duration %q (examples: 300s, 5m, 2d, 1d12h)", s)
		}
		days = time.Duration(n * float64(24*time.Hour))
		s = s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q (examples: 300s, 5m, 2d, 1d12h)", s)
	}
	if days+d < 0 {
		return 0, fmt.Errorf("duration %q is too long", s)
	}
	return days + d, nil
}

// maxDays keeps every duration far from time.Duration's ~292-year limit.
const maxDays = 36500

func seconds(n int64) (time.Duration, error) {
	if n < 0 {
		return 0, fmt.Errorf("negative duration %d", n)
	}
	if n > maxDays*86400 {
		return 0, fmt.Errorf("duration %d seconds is too long (at most %d days)", n, maxDays)
	}
	return time.Duration(n) * time.Second, nil
}

// UnmarshalText implements encoding.TextUnmarshaler (TOML strings).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// UnmarshalTOML accepts integers (seconds) as well as strings.
func (d *Duration) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		v, err := seconds(x)
		if err != nil {
			return err
		}
		*d = Duration(v)
		return nil
	case string:
		return d.UnmarshalText([]byte(x))
	}
	return fmt.Errorf("duration must be a string like \"5m\" or an integer number of seconds, not %T", v)
}

// MarshalText prints days when the value is a whole number of days.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d Duration) String() string {
	v := time.Duration(d)
	if v >= 24*time.Hour && v%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(v/(24*time.Hour)), 10) + "d"
	}
	return v.String()
}
