package lists

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadClientFiles(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.txt", "example.com\n")
	b := writeFile(t, dir, "b.txt", "\r\n192.0.2.0/24\r\nexample.com\r\n") // CRLF
	l, err := LoadClientFiles(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := l.Lookup(addr("192.0.2.1"), ""); !ok || e != (Entry{"192.0.2.0/24", b, 2}) {
		t.Errorf("Lookup = %+v, %v", e, ok)
	}
	if e, ok := l.Lookup(addr(""), "mx.example.com"); !ok || e.Source != a {
		t.Errorf("Lookup = %+v, %v; want the entry from %s", e, ok, a)
	}
	if l, err := LoadClientFiles(); err != nil || l.Len() != 0 {
		t.Errorf("no files: %v, %d entries", err, l.Len())
	}
}

func TestLoadClientFilesErrors(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, dir, "good.txt", "example.com\n")
	bad := writeFile(t, dir, "bad.txt", "# header\nexample.com\n/(/\n")
	missing := filepath.Join(dir, "missing.txt")

	_, err := LoadClientFiles(good, missing, bad)
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file not reported as fs.ErrNotExist: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{missing, bad + `:3: invalid entry "/(/"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
}

func TestLoadAddressFiles(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, dir, "rcpt", "\uFEFFpostmaster@\n")
	l, err := LoadAddressFiles(p)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := l.Lookup("postmaster@example.com"); !ok || e != (Entry{"postmaster@", p, 1}) {
		t.Errorf("Lookup = %+v, %v", e, ok)
	}
	missing := filepath.Join(dir, "nope")
	if _, err := LoadAddressFiles(p, missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("err = %v, want it to name %s", err, missing)
	}
	bad := writeFile(t, dir, "bad", "a@b@c\n")
	if _, err := LoadAddressFiles(bad); err == nil || !strings.HasPrefix(err.Error(), bad+":1: ") {
		t.Errorf("err = %v", err)
	}
}

type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		r.n++
		return copy(p, "example.com\n"), nil
	}
	return 0, errors.New("disk on fire")
}

func TestParseReadError(t *testing.T) {
	_, err := ParseClientList("x.txt", &failingReader{})
	if err == nil || err.Error() != "x.txt:2: read: disk on fire" {
		t.Errorf("err = %v", err)
	}
	_, err = ParseAddressList("y.txt", &failingReader{})
	if err == nil || !strings.HasPrefix(err.Error(), "y.txt:2: read: ") {
		t.Errorf("err = %v", err)
	}
}
