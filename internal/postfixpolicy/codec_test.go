package postfixpolicy

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/tempfail/tempfail/internal/policy"
)

func read(t *testing.T, wire string, max int) (*policy.Request, error) {
	t.Helper()
	return ReadRequest(bufio.NewReader(strings.NewReader(wire)), max)
}

func sameRequest(t *testing.T, got, want *policy.Request) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("request mismatch\n got: %+v\nwant: %+v", got, want)
	}
}

func TestReadRequestSamples(t *testing.T) {
	for _, s := range samples {
		t.Run(s.name, func(t *testing.T) {
			got, err := read(t, s.wire, 0)
			if err != nil {
				t.Fatalf("ReadRequest: %v", err)
			}
			sameRequest(t, got, s.want)
		})
	}
}

// req builds the expected request for the short cases below.
func req(f func(r *policy.Request)) *policy.Request {
	r := &policy.Request{Kind: RequestType}
	if f != nil {
		f(r)
	}
	return r
}

func TestReadRequest(t *testing.T) {
	const head = "request=smtpd_access_policy\n"
	tests := []struct {
		name string
		wire string
		want *policy.Request
	}{
		{"minimal", head + "\n", req(nil)},
		{"crlf", "request=smtpd_access_policy\r\nsender=a@example.com\r\n\r\n",
			req(func(r *policy.Request) { r.Sender = "a@example.com" })},
		{"several trailing CRs all cut", head + "sender=a@example.com\r\r\n\n",
			req(func(r *policy.Request) { r.Sender = "a@example.com" })},
		{"CR inside a value kept", head + "helo_name=a\rb\n\n",
			req(func(r *policy.Request) { r.HeloName = "a\rb" })},
		{"value with =", head + "ccert_subject=CN=mx.example,O=Ex=ample\nsender=a=b@example.com\n\n",
			req(func(r *policy.Request) {
				r.CCertSubject = "CN=mx.example,O=Ex=ample"
				r.Sender = "a=b@example.com"
			})},
		{"value with invalid UTF-8 and controls kept", head + "helo_name=\xff\xfe\x01\x7f\n\n",
			req(func(r *policy.Request) { r.HeloName = "\xff\xfe\x01\x7f" })},
		{"unknown attributes kept in order, repeats too", head +
			"x_future=1\nsmtputf8=yes\nx_future=2\nempty=\n\n",
			req(func(r *policy.Request) {
				r.Extra = []policy.Attr{{Name: "x_future", Value: "1"}, {Name: "smtputf8", Value: "yes"}, {Name: "x_future", Value: "2"}, {Name: "empty", Value: ""}}
			})},
		{"last known value wins", head + "sender=first@example.com\nsender=last@example.com\n\n",
			req(func(r *policy.Request) { r.Sender = "last@example.com" })},
		{"request= may come last", "sender=a@example.com\n" + head + "\n",
			req(func(r *policy.Request) { r.Sender = "a@example.com" })},
		{"empty numerics are 0", head + "recipient_count=\nsize=\nencryption_keysize=\n\n", req(nil)},
		{"numerics", head + "recipient_count=12\nsize=9223372036854775807\nencryption_keysize=0256\n\n",
			req(func(r *policy.Request) {
				r.RcptCount, r.Size, r.EncKeysize = 12, 9223372036854775807, 256
			})},
		{"non-numeric numerics go to Extra, field keeps its value", head +
			"size=100\nsize=abc\nrecipient_count=-1\nencryption_keysize=9223372036854775808\n\n",
			req(func(r *policy.Request) {
				r.Size = 100
				r.Extra = []policy.Attr{{Name: "size", Value: "abc"}, {Name: "recipient_count", Value: "-1"},
					{Name: "encryption_keysize", Value: "9223372036854775808"}}
			})},
		{"client_address unknown", head + "client_address=unknown\n\n",
			req(func(r *policy.Request) { r.ClientAddress = "unknown" })},
		{"client_address garbage", head + "client_address=1.2.3.4.5\n\n",
			req(func(r *policy.Request) { r.ClientAddress = "1.2.3.4.5" })},
		{"client_address IPv4-mapped is unmapped", head + "client_address=::ffff:192.0.2.1\n\n",
			req(func(r *policy.Request) {
				r.ClientAddress = "::ffff:192.0.2.1"
				r.Client = netip.MustParseAddr("192.0.2.1")
			})},
		{"client_address later garbage clears Client", head +
			"client_address=192.0.2.1\nclient_address=unknown\n\n",
			req(func(r *policy.Request) { r.ClientAddress = "unknown" })},
		{"dry run", head + "x_tempfail_dry_run=yes\n\n",
			req(func(r *policy.Request) { r.DryRun = true })},
		{"dry run only on yes", head + "x_tempfail_dry_run=no\n\n", req(nil)},
		{"verbose stays in Extra", head + "x_tempfail_verbose=yes\n\n",
			req(func(r *policy.Request) { r.Extra = []policy.Attr{{Name: AttrVerbose, Value: "yes"}} })},
		{"empty lines before a request skipped", "\n\r\n\n" + head + "\n", req(nil)},
		{"Exim: EOF instead of the empty line", head + "sender=a@example.com\n",
			req(func(r *policy.Request) { r.Sender = "a@example.com" })},
		{"Exim: EOF instead of the last newline", head + "sender=a@example.com",
			req(func(r *policy.Request) { r.Sender = "a@example.com" })},
		{"Exim: EOF after a final CR", head + "sender=a@example.com\r",
			req(func(r *policy.Request) { r.Sender = "a@example.com" })},
		{"Exim: EOF after request= alone", "request=smtpd_access_policy", req(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := read(t, tt.wire, 0)
			if err != nil {
				t.Fatalf("ReadRequest: %v", err)
			}
			sameRequest(t, got, tt.want)
		})
	}
}

func TestReadRequestErrors(t *testing.T) {
	const head = "request=smtpd_access_policy\n"
	long := strings.Repeat("x", 100)
	tests := []struct {
		name string
		wire string
		max  int
		kind ErrorKind
		msg  string
	}{
		{"no equals", head + "hello world\n\n", 0, KindNoEquals,
			`policy protocol: line 2: no "=" in "hello world"`},
		{"no equals, quote truncated", head + long + "\n\n", 0, KindNoEquals,
			`policy protocol: line 2: no "=" in "` + long[:64] + `"...`},
		{"no equals, quote escaped", "\x1b[31mhi\xff\n\n", 0, KindNoEquals,
			`policy protocol: line 1: no "=" in "\x1b[31mhi\xff"`},
		{"no equals, quote does not split a rune", head + strings.Repeat("x", 63) + "é\n\n", 0, KindNoEquals,
			`policy protocol: line 2: no "=" in "` + strings.Repeat("x", 63) + `"...`},
		{"no equals in a final line at EOF", head + "trailing", 0, KindNoEquals,
			`policy protocol: line 2: no "=" in "trailing"`},
		{"too large", head + "sender=" + long + "\n\n", 64, KindTooLarge,
			`policy protocol: request exceeds 64 bytes`},
		{"too large, default limit", head + "sender=" + strings.Repeat("x", DefaultMaxRequestSize) + "\n\n", 0,
			KindTooLarge, `policy protocol: request exceeds 65536 bytes`},
		{"too large counts empty lines before it", strings.Repeat("\n", 65) + head + "\n", 64, KindTooLarge,
			`policy protocol: request exceeds 64 bytes`},
		{"NUL in value", head + "sender=a\x00b\n\n", 0, KindBinary,
			`policy protocol: line 2: NUL byte in "sender=a\x00b"`},
		{"NUL in name", "sen\x00der=a\n\n", 0, KindBinary,
			`policy protocol: line 1: NUL byte in "sen\x00der=a"`},
		{"control byte in name", head + "re\x01quest=x\n\n", 0, KindBinary,
			`policy protocol: line 2: control byte in attribute name "re\x01quest"`},
		{"CR in name", "request\r=x\n\n", 0, KindBinary,
			`policy protocol: line 1: control byte in attribute name "request\r"`},
		{"TLS ClientHello bytes as a name", "\x16\x03\x01=x\n\n", 0, KindBinary,
			`policy protocol: line 1: control byte in attribute name "\x16\x03\x01"`},
		{"invalid UTF-8 in name, no controls", "\xff\xfename=x\n\n", 0, KindBinary,
			`policy protocol: line 1: invalid UTF-8 in attribute name "\xff\xfename"`},
		{"space in name", head + "my name=x\n\n", 0, KindBadName,
			`policy protocol: line 2: space or non-ASCII character in attribute name "my name"`},
		{"non-ASCII name", head + "naïve=x\n\n", 0, KindBadName,
			`policy protocol: line 2: space or non-ASCII character in attribute name "na\u00efve"`},
		{"empty name", head + "=x\n\n", 0, KindBadName,
			`policy protocol: line 2: empty attribute name in "=x"`},
		{"missing request", "sender=a@example.com\n\n", 0, KindMissingRequest,
			`policy protocol: no "request" attribute (Postfix sends request=smtpd_access_policy)`},
		{"empty request", "request=\n\n", 0, KindMissingRequest,
			`policy protocol: no "request" attribute (Postfix sends request=smtpd_access_policy)`},
		{"unknown request", "request=foo\n\n", 0, KindUnknownRequest,
			`policy protocol: unknown request type "foo" (want smtpd_access_policy)`},
		{"unknown request, case matters", "request=SMTPD_ACCESS_POLICY\n\n", 0, KindUnknownRequest,
			`policy protocol: unknown request type "SMTPD_ACCESS_POLICY" (want smtpd_access_policy)`},
		{"EOF mid-request without request=", "protocol_state=RCPT\nsender=a@example.com\n", 0, KindTruncated,
			`policy protocol: EOF in the middle of a request without request= (after 2 line(s))`},
		{"EOF mid-line without request=", "protocol_state=RC", 0, KindTruncated,
			`policy protocol: EOF in the middle of a request without request= (after 1 line(s))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := read(t, tt.wire, tt.max)
			if err == nil {
				t.Fatalf("ReadRequest = %+v, want error", got)
			}
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T) is not a *ProtocolError", err, err)
			}
			if pe.Kind != tt.kind {
				t.Errorf("kind = %v, want %v", pe.Kind, tt.kind)
			}
			if err.Error() != tt.msg {
				t.Errorf("message\n got: %s\nwant: %s", err, tt.msg)
			}
		})
	}
}

// A persistent connection: requests back to back, then a clean EOF.
func TestReadRequestStream(t *testing.T) {
	wire := samples[0].wire + "\n" + "request=smtpd_access_policy\r\nsender=b@example.com\r\n\r\n\n\n"
	br := bufio.NewReader(strings.NewReader(wire))
	first, err := ReadRequest(br, 0)
	if err != nil {
		t.Fatalf("first: %v", err)
	}
	sameRequest(t, first, samples[0].want)
	second, err := ReadRequest(br, 0)
	if err != nil {
		t.Fatalf("second: %v", err)
	}
	sameRequest(t, second, req(func(r *policy.Request) { r.Sender = "b@example.com" }))
	for range 2 { // EOF stays EOF
		if got, err := ReadRequest(br, 0); err != io.EOF {
			t.Fatalf("after the last request: %+v, %v; want io.EOF", got, err)
		}
	}
}

// Lines longer than the bufio buffer are reassembled.
func TestReadRequestLongLines(t *testing.T) {
	subject := strings.Repeat("CN=x,", 400)
	wire := "request=smtpd_access_policy\nccert_subject=" + subject + "\n\n"
	got, err := ReadRequest(bufio.NewReaderSize(strings.NewReader(wire), 16), 0)
	if err != nil {
		t.Fatal(err)
	}
	sameRequest(t, got, req(func(r *policy.Request) { r.CCertSubject = subject }))
}

// failingReader returns data, then err.
type failingReader struct {
	data string
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if r.data == "" {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadRequestIOErrors(t *testing.T) {
	boom := errors.New("boom")
	t.Run("before a request: the error itself", func(t *testing.T) {
		_, err := ReadRequest(bufio.NewReader(&failingReader{"\n", boom}), 0)
		if err != boom {
			t.Fatalf("err = %v, want boom unwrapped", err)
		}
	})
	t.Run("mid-request: ReadError with the line", func(t *testing.T) {
		_, err := ReadRequest(bufio.NewReader(&failingReader{"request=smtpd_access_policy\nsen", boom}), 0)
		var re *ReadError
		if !errors.As(err, &re) || re.Line != 2 || !errors.Is(err, boom) {
			t.Fatalf("err = %v, want *ReadError at line 2 wrapping boom", err)
		}
		const msg = "policy protocol: reading line 2 of a request: boom"
		if err.Error() != msg {
			t.Errorf("message %q, want %q", err, msg)
		}
	})
}

func TestVerbose(t *testing.T) {
	tests := []struct {
		extra []policy.Attr
		want  bool
	}{
		{nil, false},
		{[]policy.Attr{{Name: AttrVerbose, Value: "yes"}}, true},
		{[]policy.Attr{{Name: "other", Value: "x"}, {Name: AttrVerbose, Value: "yes"}}, true},
		{[]policy.Attr{{Name: AttrVerbose, Value: "no"}}, false},
		{[]policy.Attr{{Name: AttrVerbose, Value: "YES"}}, false},
	}
	for _, tt := range tests {
		if got := Verbose(&policy.Request{Extra: tt.extra}); got != tt.want {
			t.Errorf("Verbose(%v) = %v, want %v", tt.extra, got, tt.want)
		}
	}
}

func TestErrorKindString(t *testing.T) {
	seen := map[string]bool{}
	for k := ErrorKind(0); k < numKinds; k++ {
		s := k.String()
		if s == "" || strings.HasPrefix(s, "ErrorKind(") || seen[s] {
			t.Errorf("kind %d has label %q", int(k), s)
		}
		seen[s] = true
	}
	if got := ErrorKind(99).String(); got != "ErrorKind(99)" {
		t.Errorf("ErrorKind(99).String() = %q", got)
	}
}
