package explain

import (
	"bufio"
	"io"
	"strings"
)

// SplitLines turns a stream of pasted lines into inputs: one input per
// line, blank lines skipped, except that the lines of one multi-line reply
// are joined (RFC 5321 section 4.2.1: every line but the last has a '-'
// after the code, "450-4.2.1 ...", and the last a space, "450 4.2.1 ...").
// Indented lines continue the previous input (folded bounce text).
func SplitLines(r io.Reader, fn func(input string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var cur []string
	contCode := "" // "450" while inside a multi-line reply
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		in := strings.Join(cur, "\n")
		cur, contCode = nil, ""
		return fn(in)
	}
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			if err := flush(); err != nil {
				return err
			}
			continue
		}
		code, cont := replyLinePrefix(line)
		switch {
		case contCode != "" && code == contCode:
			cur = append(cur, line)
			if !cont {
				if err := flush(); err != nil {
					return err
				}
			}
			continue
		case len(cur) > 0 && (line[0] == ' ' || line[0] == '\t') && contCode == "":
			cur = append(cur, line)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		cur = append(cur, line)
		if cont {
			contCode = code
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return flush()
}

// replyLinePrefix reports the basic code a line starts with and whether it
// is a continuation line ("450-...").
func replyLinePrefix(line string) (string, bool) {
	if len(line) < 4 || line[0] < '2' || line[0] > '5' || !isDigit(line[1]) || !isDigit(line[2]) {
		return "", false
	}
	switch line[3] {
	case '-':
		return line[:3], true
	case ' ':
		return line[:3], false
	}
	return "", false
}
