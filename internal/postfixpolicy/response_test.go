package postfixpolicy

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tempfail/tempfail/internal/policy"
)

func writeResponse(t *testing.T, v policy.Verdict, verbose bool) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteResponse(bufio.NewWriter(&b), v, verbose); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestWriteResponse(t *testing.T) {
	tests := []struct {
		name    string
		v       policy.Verdict
		verbose bool
		want    string
	}{
		{"dunno", policy.Verdict{}, false, "action=DUNNO\n\n"},
		{"greylist", policy.Verdict{Action: policy.DeferIfPermit, Text: "Greylisted, try again later",
			Check: "greylist", Reason: "new_triplet"}, false,
			"action=DEFER_IF_PERMIT Greylisted, try again later\n\n"},
		{"reply", policy.Verdict{Action: policy.Reply, Code: 450, Enhanced: "4.7.1", Text: "Try later"}, false,
			"action=450 4.7.1 Try later\n\n"},
		{"verbose", policy.Verdict{Action: policy.DeferIfPermit, Check: "greylist", Reason: "new_triplet"}, true,
			"action=DEFER_IF_PERMIT\nx_tempfail_check=greylist\nx_tempfail_reason=new_triplet\n\n"},
		{"verbose, no opinion", policy.Verdict{}, true,
			"action=DUNNO\nx_tempfail_check=\nx_tempfail_reason=\n\n"},
		{"verbose detail", policy.Verdict{Action: policy.OK, Check: "allowlist", Reason: "client",
			Detail: "192.0.2.0/24 in /etc/tempfail/clients"}, true,
			"action=OK\nx_tempfail_check=allowlist\nx_tempfail_reason=client\n" +
				"x_tempfail_detail=192.0.2.0/24 in /etc/tempfail/clients\n\n"},
		{"verbose wait", policy.Verdict{Action: policy.DeferIfPermit, Check: "greylist",
			Reason: "retry_too_early", Wait: 4*time.Minute + 30*time.Second}, true,
			"action=DEFER_IF_PERMIT\nx_tempfail_check=greylist\nx_tempfail_reason=retry_too_early\n" +
				"x_tempfail_detail=retry can pass in 4m30s\n\n"},
		{"verbose detail and wait", policy.Verdict{Action: policy.DeferIfPermit, Check: "greylist",
			Reason: "new_triplet", Detail: "first seen", Wait: time.Minute}, true,
			"action=DEFER_IF_PERMIT\nx_tempfail_check=greylist\nx_tempfail_reason=new_triplet\n" +
				"x_tempfail_detail=first seen; retry can pass in 1m0s\n\n"},
		{"detail and wait never reach Postfix", policy.Verdict{Action: policy.DeferIfPermit,
			Detail: "first seen", Wait: time.Minute}, false, "action=DEFER_IF_PERMIT\n\n"},
		{"detail cannot break the framing", policy.Verdict{Detail: "a\n\nb"}, true,
			"action=DUNNO\nx_tempfail_check=\nx_tempfail_reason=\nx_tempfail_detail=a  b\n\n"},
		{"verbose lines cannot break the framing", policy.Verdict{Check: "a\nb", Reason: "c\r\n\x00"}, true,
			"action=DUNNO\nx_tempfail_check=a b\nx_tempfail_reason=c   \n\n"},
		{"text newlines blanked by Line", policy.Verdict{Action: policy.Reject, Text: "no\n\nway"}, false,
			"action=REJECT no  way\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := writeResponse(t, tt.v, tt.verbose); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// The bare-keyword fast path must render exactly what Verdict.Line does.
func TestWriteResponseMatchesLine(t *testing.T) {
	for a := policy.Dunno; a <= policy.BCC+1; a++ {
		for _, v := range []policy.Verdict{
			{Action: a},
			{Action: a, Code: 451},
			{Action: a, Enhanced: "4.7.1"},
			{Action: a, Text: "text"},
			{Action: a, Code: 550, Enhanced: "5.7.1", Text: "text"},
		} {
			want := "action=" + v.Line() + "\n\n"
			if got := writeResponse(t, v, false); got != want {
				t.Errorf("%+v: got %q, Line gives %q", v, got, want)
			}
		}
	}
}

func TestWriteResponseAllocs(t *testing.T) {
	w := bufio.NewWriter(discard{})
	v := policy.Verdict{Action: policy.Dunno}
	if n := testing.AllocsPerRun(100, func() { WriteResponse(w, v, false) }); n != 0 {
		t.Errorf("WriteResponse(DUNNO) allocates %v times, want 0", n)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func TestWriteResponseError(t *testing.T) {
	err := WriteResponse(bufio.NewWriter(errWriter{}), policy.Verdict{}, false)
	if err == nil || err.Error() != "write policy response: disk full" {
		t.Fatalf("err = %v", err)
	}
}

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want Response
		err  string
	}{
		{"plain", "action=DUNNO\n\n", Response{Action: "DUNNO", Attrs: []policy.Attr{{Name: "action", Value: "DUNNO"}}}, ""},
		{"verbose, CRLF", "action=450 4.7.1 a=b\r\nx_tempfail_check=greylist\r\nx_tempfail_reason=new\r\n" +
			"x_tempfail_detail=first seen\r\n\r\n",
			Response{Action: "450 4.7.1 a=b", Check: "greylist", Reason: "new", Detail: "first seen",
				Attrs: []policy.Attr{{Name: "action", Value: "450 4.7.1 a=b"}, {Name: AttrCheck, Value: "greylist"},
					{Name: AttrReason, Value: "new"}, {Name: AttrDetail, Value: "first seen"}}}, ""},
		{"closed unanswered", "", Response{}, ErrNoResponse.Error()},
		{"closed mid-answer", "action=DUNNO\n", Response{},
			"read policy response: " + ErrNoResponse.Error() + " (EOF after 1 line(s), before the empty line)"},
		{"no action", "foo=bar\n\n", Response{}, "read policy response: no action= attribute"},
		{"no equals", "DUNNO\n\n", Response{}, `read policy response: no "=" in "DUNNO"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadResponse(bufio.NewReader(strings.NewReader(tt.wire)), 0)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %s", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
	_, err := ReadResponse(bufio.NewReader(strings.NewReader("action=DUNNO\n")), 0)
	if !errors.Is(err, ErrNoResponse) {
		t.Errorf("a cut answer should wrap ErrNoResponse: %v", err)
	}
}
