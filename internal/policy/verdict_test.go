package policy

import "testing"

// TestLine: every access(5) action a policy server may return renders as
// Postfix expects it after "action=".
func TestLine(t *testing.T) {
	tests := []struct {
		v    Verdict
		want string
	}{
		{Verdict{}, "DUNNO"},
		{Verdict{Action: OK}, "OK"},
		{Verdict{Action: DeferIfPermit, Enhanced: "4.2.0", Text: "Greylisted, retry after 300 seconds"}, "DEFER_IF_PERMIT 4.2.0 Greylisted, retry after 300 seconds"},
		{Verdict{Action: DeferIfReject, Text: "try later"}, "DEFER_IF_REJECT try later"},
		{Verdict{Action: Defer, Enhanced: "4.7.1", Text: "Throttled"}, "DEFER 4.7.1 Throttled"},
		{Verdict{Action: Reject, Enhanced: "5.7.1", Text: "no"}, "REJECT 5.7.1 no"},
		{Verdict{Action: Reply, Code: 450, Enhanced: "4.7.1", Text: "Rate limit for new clients exceeded (2/h), try again in 27 minutes"}, "450 4.7.1 Rate limit for new clients exceeded (2/h), try again in 27 minutes"},
		{Verdict{Action: Reply, Code: 550, Enhanced: "5.7.27", Text: "Sender address rejected: Domain does not accept mail"}, "550 5.7.27 Sender address rejected: Domain does not accept mail"},
		{Verdict{Action: Reply, Code: 451}, "451"},
		{Verdict{Action: Prepend, Text: "X-Greylist: delayed 312 seconds by tempfail"}, "PREPEND X-Greylist: delayed 312 seconds by tempfail"},
		{Verdict{Action: Hold, Text: "over quota"}, "HOLD over quota"},
		{Verdict{Action: Discard, Text: "spam"}, "DISCARD spam"},
		{Verdict{Action: Warn, Text: "would defer"}, "WARN would defer"},
		{Verdict{Action: Info, Text: "note"}, "INFO note"},
		{Verdict{Action: Filter, Text: "smtp:[127.0.0.1]:10025"}, "FILTER smtp:[127.0.0.1]:10025"},
		{Verdict{Action: Redirect, Text: "quarantine@example.net"}, "REDIRECT quarantine@example.net"},
		{Verdict{Action: BCC, Text: "archive@example.net"}, "BCC archive@example.net"},
		// A newline in a text would end the policy response early.
		{Verdict{Action: Reject, Text: "a\nb\r\x00c"}, "REJECT a b  c"},
	}
	for _, tt := range tests {
		if got := tt.v.Line(); got != tt.want {
			t.Errorf("Line() = %q, want %q", got, tt.want)
		}
	}
}

func TestTemporary(t *testing.T) {
	for v, want := range map[Verdict]bool{
		{Action: DeferIfPermit}:         true,
		{Action: Defer}:                 true,
		{Action: Reply, Code: 450}:      true,
		{Action: Reply, Code: 550}:      false,
		{Action: Reject}:                false,
		{Action: Dunno}:                 false,
		{Action: Hold}:                  false,
		{Action: DeferIfReject}:         true,
		{Action: Prepend, Text: "X: y"}: false,
	} {
		if got := v.Temporary(); got != want {
			t.Errorf("%q.Temporary() = %v", v.Line(), got)
		}
	}
}
