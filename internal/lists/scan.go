package lists

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxLineLen bounds one line. Real entries are short; a longer line means
// a wrong file, and bufio.Scanner needs a bound anyway.
const maxLineLen = 64 * 1024

// line is one meaningful line of a list file.
type line struct {
	no   int
	text string
}

// scanLines returns the non-empty, comment-stripped lines of r, following
// postgrey: s/#.*$//; s/^\s+//; s/\s+$//. A line that is too long is
// reported with its number; read errors end the scan.
func scanLines(source string, r io.Reader, errs *errorList) ([]line, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLineLen)
	var out []line
	no := 0
	for sc.Scan() {
		no++
		t := sc.Text()
		if no == 1 {
			// Editors on some systems prepend a UTF-8 byte order mark.
			t = strings.TrimPrefix(t, "\uFEFF")
		}
		if c, ok := cleanLine(t); ok {
			out = append(out, line{no: no, text: c})
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			errs.add(&ParseError{Source: source, Line: no + 1,
				Reason: fmt.Sprintf("line longer than %d bytes", maxLineLen)})
			return out, nil
		}
		return out, fmt.Errorf("%s:%d: read: %w", source, no+1, err)
	}
	return out, nil
}

// cleanLine strips the comment and surrounding space of one line.
func cleanLine(s string) (string, bool) {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSpace(s)
	return s, s != ""
}

// inlineLines turns config-supplied entries into lines numbered by
// position, so errors point at "inline:3" for the third entry.
func inlineLines(entries []string) []line {
	out := make([]line, 0, len(entries))
	for i, e := range entries {
		if c, ok := cleanLine(e); ok {
			out = append(out, line{no: i + 1, text: c})
		}
	}
	return out
}
