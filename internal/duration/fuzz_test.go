package duration

import "testing"

// FuzzParse: never panics, never returns a negative duration.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err == nil && d < 0 {
			t.Fatalf("Parse(%q) = %v", s, d)
		}
	})
}
