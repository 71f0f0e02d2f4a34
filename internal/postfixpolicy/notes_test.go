package postfixpolicy

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/tempfail/tempfail/internal/policy"
)

// TestVerboseNotes: engine notes go out as x_tempfail_NAME= lines only in a
// verbose answer, and ReadResponse collects the limits.
func TestVerboseNotes(t *testing.T) {
	notes := []policy.Attr{{Name: "limit", Value: "new-clients key=192.0.2.1 remaining=0 retry_after=1620"}, {Name: "bad name=", Value: "x\ny"}}
	var b bytes.Buffer
	if err := writeResponseNotes(bufio.NewWriter(&b), policy.Verdict{}, false, notes); err != nil {
		t.Fatal(err)
	}
	if b.String() != "action=DUNNO\n\n" {
		t.Fatalf("notes leaked into a Postfix answer: %q", b.String())
	}
	b.Reset()
	if err := writeResponseNotes(bufio.NewWriter(&b), policy.Verdict{}, true, notes); err != nil {
		t.Fatal(err)
	}
	want := "action=DUNNO\nx_tempfail_check=\nx_tempfail_reason=\nx_tempfail_limit=new-clients key=192.0.2.1 remaining=0 retry_after=1620\nx_tempfail_bad_name_=x y\n\n"
	if b.String() != want {
		t.Fatalf("got %q\nwant %q", b.String(), want)
	}
	r, err := ReadResponse(bufio.NewReader(strings.NewReader(b.String())), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Limits) != 1 || r.Limits[0] != notes[0].Value {
		t.Fatalf("Limits = %q", r.Limits)
	}
}
