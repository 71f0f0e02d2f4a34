package reply

import "testing"

func TestParseStatus(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want string
	}{
		{"4.7.1", true, "4.7.1"},
		{"4.2.0", true, "4.2.0"},
		{"4.4.317", true, "4.4.317"},
		{"5.7.27", true, "5.7.27"},
		{"2.0.0", true, "2.0.0"},
		{"3.1.1", false, ""},
		{"4.7", false, ""},
		{"45.7.1", false, ""},
		{"4.7.1000", false, ""},
		{"4.x.1", false, ""},
		{"", false, ""},
	}
	for _, tt := range tests {
		s, ok := ParseStatus(tt.in)
		if ok != tt.ok || (ok && s.String() != tt.want) {
			t.Errorf("ParseStatus(%q) = %v, %v; want %q, %v", tt.in, s, ok, tt.want, tt.ok)
		}
	}
}

func TestMeaning(t *testing.T) {
	tests := map[string]string{
		"4.7.1":   "Delivery not authorized, message refused",
		"4.2.0":   "Other or undefined mailbox status",
		"4.1.8":   "Bad sender's system address",
		"5.7.27":  "Sender address has null MX",
		"4.7.25":  "Reverse DNS validation failed",
		"4.4.317": "Network and routing status",
	}
	for in, want := range tests {
		s, _ := ParseStatus(in)
		if got := Meaning(s); got != want {
			t.Errorf("Meaning(%s) = %q, want %q", in, got, want)
		}
	}
}
