package postfixpolicy

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/tempfail/tempfail/internal/policy"
)

// fuzzMax is the size limit under fuzzing: small, so too_large is reached.
const fuzzMax = 1024

// FuzzReadRequest feeds arbitrary streams to ReadRequest. Invariants:
//   - it never panics, and fails only with io.EOF or a *ProtocolError of a
//     kind ReadRequest reports (bytes.Reader has no other I/O errors);
//   - the bufio buffer size changes nothing (a 16-byte buffer takes the
//     long-line path on almost every line);
//   - every request read is an smtpd_access_policy request, and encoding
//     it and reading it back yields the same request.
//
// The seed corpus, testdata/fuzz/FuzzReadRequest, holds real requests
// (samples) and malformed ones; see TestFuzzSeedCorpus.
func FuzzReadRequest(f *testing.F) {
	f.Fuzz(fuzzBody)
}

// fuzzBody checks FuzzReadRequest's invariants on one input.
func fuzzBody(t *testing.T, data []byte) {
	small, smallErr := readStream(bufio.NewReaderSize(bytes.NewReader(data), 16))
	big, bigErr := readStream(bufio.NewReaderSize(bytes.NewReader(data), 4096))
	if !reflect.DeepEqual(small, big) || errString(smallErr) != errString(bigErr) {
		t.Fatalf("buffer size matters:\n16: %+v, %v\n4096: %+v, %v", small, smallErr, big, bigErr)
	}
	var pe *ProtocolError
	if bigErr != io.EOF && (!errors.As(bigErr, &pe) || pe.Kind < 0 || pe.Kind >= KindTimeout) {
		t.Fatalf("unexpected error %v (%T)", bigErr, bigErr)
	}
	for _, r := range big {
		if r.Kind != RequestType {
			t.Fatalf("accepted request type %q", r.Kind)
		}
		var b bytes.Buffer
		if err := EncodeRequest(&b, r); err != nil {
			t.Fatalf("cannot re-encode %+v: %v", r, err)
		}
		again, err := ReadRequest(bufio.NewReader(bytes.NewReader(b.Bytes())), 1<<20)
		if err != nil {
			t.Fatalf("re-reading %q: %v", b.String(), err)
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip changed the request\nfirst: %+v\nagain: %+v\nwire: %q", r, again, b.String())
		}
	}
}

// readStream reads requests until the first error, as a connection would.
func readStream(br *bufio.Reader) ([]*policy.Request, error) {
	var reqs []*policy.Request
	for {
		r, err := ReadRequest(br, fuzzMax)
		if err != nil {
			return reqs, err
		}
		reqs = append(reqs, r)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

var updateCorpus = flag.Bool("update-corpus", false, "rewrite testdata/fuzz/FuzzReadRequest from the samples")

// fuzzOnlySeeds are streams worth seeding that no unit test names.
var fuzzOnlySeeds = []struct{ name, wire string }{
	{"stream_two_requests_crlf", rcptFull + "\n\r\n" + strings.ReplaceAll(samples[1].wire, "\n", "\r\n")},
	{"oversized", "request=smtpd_access_policy\nccert_subject=" + strings.Repeat("CN=x,", 250) + "\n\n"},
	{"unknown_attrs_and_own", "request=smtpd_access_policy\nx_future=a=b\nx_tempfail_dry_run=yes\n" +
		"x_tempfail_verbose=yes\nsize=12ab\nclient_address=::ffff:10.0.0.1\n\n"},
}

// TestFuzzSeedCorpus keeps the seed corpus in step with the samples: every
// sample and malformed request has its file, byte for byte. Regenerate with
// go test -run TestFuzzSeedCorpus -update-corpus ./internal/postfixpolicy/
func TestFuzzSeedCorpus(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReadRequest")
	seeds := map[string]string{}
	for _, s := range samples {
		seeds[s.name] = s.wire
	}
	for _, s := range malformed {
		seeds["malformed_"+s.name] = s.wire
	}
	for _, s := range fuzzOnlySeeds {
		seeds[s.name] = s.wire
	}
	for name, wire := range seeds {
		want := "go test fuzz v1\n[]byte(" + strconv.Quote(wire) + ")\n"
		path := filepath.Join(dir, name)
		if *updateCorpus {
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("seed %s is missing or stale (err %v); run with -update-corpus", path, err)
		}
	}
}

// Every malformed seed is refused, so the corpus exercises the error paths.
func TestMalformedSeedsRefused(t *testing.T) {
	for _, s := range malformed {
		if r, err := read(t, s.wire, 0); err == nil {
			t.Errorf("%s: accepted as %+v", s.name, r)
		}
	}
}
