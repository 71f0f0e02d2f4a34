package postfixpolicy

import (
	"bufio"
	"bytes"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/tempfail/tempfail/internal/policy"
)

func TestEncodeRequestGolden(t *testing.T) {
	r := &policy.Request{
		Kind: RequestType, State: policy.StateRcpt, Protocol: "ESMTP",
		Sender: "a@example.com", Recipient: "b@example.org", RcptCount: 0,
		Client: netip.MustParseAddr("2001:db8::1"), Size: 42, EncKeysize: 256,
		MailVersion: "3.10.1", DryRun: true,
		Extra: []policy.Attr{{Name: "x_future", Value: "1"}, {Name: "empty", Value: ""}},
	}
	const want = "request=smtpd_access_policy\n" +
		"protocol_state=RCPT\n" +
		"protocol_name=ESMTP\n" +
		"sender=a@example.com\n" +
		"recipient=b@example.org\n" +
		"client_address=2001:db8::1\n" + // from Client, ClientAddress being empty
		"size=42\n" +
		"encryption_keysize=256\n" +
		"mail_version=3.10.1\n" +
		"x_tempfail_dry_run=yes\n" +
		"x_future=1\n" +
		"empty=\n" +
		"\n"
	var b bytes.Buffer
	if err := EncodeRequest(&b, r); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("EncodeRequest\n got: %q\nwant: %q", b.String(), want)
	}
}

// Every sample, and every lenient case, survives Encode then Read.
func TestEncodeReadRoundTrip(t *testing.T) {
	var reqs []*policy.Request
	for _, s := range samples {
		reqs = append(reqs, s.want)
	}
	reqs = append(reqs,
		req(func(r *policy.Request) {
			r.Size = 7
			r.Extra = []policy.Attr{{Name: "size", Value: "abc"}, {Name: AttrVerbose, Value: "yes"}, {Name: "x", Value: "a=b=c"}}
			r.DryRun = true
			r.HeloName = "\xff\r\x01"
			r.ClientAddress = "::ffff:192.0.2.1"
			r.Client = netip.MustParseAddr("192.0.2.1")
		}),
	)
	for i, want := range reqs {
		var b bytes.Buffer
		if err := EncodeRequest(&b, want); err != nil {
			t.Fatalf("request %d: EncodeRequest: %v", i, err)
		}
		got, err := ReadRequest(bufio.NewReader(&b), 0)
		if err != nil {
			t.Fatalf("request %d: ReadRequest(%q): %v", i, b.String(), err)
		}
		sameRequest(t, got, want)
	}
}

func TestEncodeRequestErrors(t *testing.T) {
	tests := []struct {
		name string
		req  *policy.Request
		msg  string
	}{
		{"newline in value", req(func(r *policy.Request) { r.Sender = "a\nrequest=x" }),
			`encode policy request: value of "sender" contains a newline or NUL`},
		{"NUL in value", req(func(r *policy.Request) { r.HeloName = "a\x00" }),
			`encode policy request: value of "helo_name" contains a newline or NUL`},
		{"trailing CR", req(func(r *policy.Request) { r.Recipient = "b@example.org\r" }),
			`encode policy request: value of "recipient" ends in \r`},
		{"newline in Extra value", req(func(r *policy.Request) { r.Extra = []policy.Attr{{Name: "x", Value: "1\n"}} }),
			`encode policy request: value of "x" contains a newline or NUL`},
		{"= in Extra name", req(func(r *policy.Request) { r.Extra = []policy.Attr{{Name: "a=b", Value: "1"}} }),
			`encode policy request: Extra attribute name "a=b" contains "="`},
		{"space in Extra name", req(func(r *policy.Request) { r.Extra = []policy.Attr{{Name: "a b", Value: "1"}} }),
			`encode policy request: Extra attribute name "a b" contains a space or non-ASCII character`},
		{"control byte in Extra name", req(func(r *policy.Request) { r.Extra = []policy.Attr{{Name: "a\x01", Value: "1"}} }),
			`encode policy request: Extra attribute name "a\x01" contains a control byte`},
		{"empty Extra name", req(func(r *policy.Request) { r.Extra = []policy.Attr{{Name: "", Value: "1"}} }),
			`encode policy request: Extra attribute name "" is empty`},
		{"negative number", req(func(r *policy.Request) { r.Size = -1 }),
			`encode policy request: size is negative (-1)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := EncodeRequest(&b, tt.req)
			if err == nil || err.Error() != tt.msg {
				t.Fatalf("err = %v\nwant %s", err, tt.msg)
			}
			if b.Len() != 0 {
				t.Errorf("wrote %q despite the error", b.String())
			}
		})
	}
}

type errWriter struct{}

func (errWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestEncodeRequestWriteError(t *testing.T) {
	err := EncodeRequest(errWriter{}, req(nil))
	if err == nil || !strings.Contains(err.Error(), "write policy request: disk full") {
		t.Fatalf("err = %v", err)
	}
}
