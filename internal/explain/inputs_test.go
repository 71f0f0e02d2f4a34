package explain

import (
	"reflect"
	"strings"
	"testing"
)

func TestSplitLines(t *testing.T) {
	in := strings.Join([]string{
		"450 4.7.1 Greylisted",
		"",
		"450-4.2.1 The user you are trying to contact is receiving mail at a rate that",
		"450-4.2.1 prevents additional messages from being delivered.",
		"450 4.2.1 https://support.google.com/mail/?p=ReceivingRate - gsmtp",
		"0x800CCC79",
		"<a@b>: host mx.b[1.2.3.4] said: 554 5.7.1 Client host",
		"    rejected: cannot find your reverse hostname",
		"421 Throttled\r",
	}, "\n")
	var got []string
	if err := SplitLines(strings.NewReader(in), func(s string) error { got = append(got, s); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"450 4.7.1 Greylisted",
		"450-4.2.1 The user you are trying to contact is receiving mail at a rate that\n450-4.2.1 prevents additional messages from being delivered.\n450 4.2.1 https://support.google.com/mail/?p=ReceivingRate - gsmtp",
		"0x800CCC79",
		"<a@b>: host mx.b[1.2.3.4] said: 554 5.7.1 Client host\n    rejected: cannot find your reverse hostname",
		"421 Throttled",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestWriteText(t *testing.T) {
	e := mustExplainer(t)
	var b strings.Builder
	if err := WriteText(&b, e.Explain("450 4.7.1 <u@r.com>: Recipient address rejected: Greylisted for 5 minutes")); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, w := range []string{"greylisting — temporary", "nobody needs to act", "reply:    450 4.7.1 (Delivery not authorized", "fix:     1.", "resolves:", "source:"} {
		if !strings.Contains(out, w) {
			t.Errorf("text output lacks %q:\n%s", w, out)
		}
	}
}
