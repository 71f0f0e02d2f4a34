package lists

import (
	"errors"
	"fmt"
)

// ParseError is one bad line. Its message is "path:LINE: invalid entry
// "…": reason", the shape editors and grep users can jump to.
type ParseError struct {
	Source string
	Line   int
	Entry  string // the offending text ("" for line-level problems)
	Reason string
	Err    error // underlying cause, e.g. a regexp syntax error
}

func (e *ParseError) Error() string {
	if e.Entry == "" {
		return fmt.Sprintf("%s:%d: %s", e.Source, e.Line, e.Reason)
	}
	return fmt.Sprintf("%s:%d: invalid entry %q: %s", e.Source, e.Line, e.Entry, e.Reason)
}

func (e *ParseError) Unwrap() error { return e.Err }

// maxReported caps how many bad lines one parse reports: enough to fix a
// file in one go, not so many that a wrong file (a binary, a zone file)
// floods the log.
const maxReported = 10

// errorList collects the ParseErrors of one parse.
type errorList struct {
	errs      []error
	dropped   int
	firstDrop *ParseError
}

func (l *errorList) add(e *ParseError) {
	if len(l.errs) < maxReported {
		l.errs = append(l.errs, e)
		return
	}
	if l.dropped == 0 {
		l.firstDrop = e
	}
	l.dropped++
}

// err joins what was collected; nil when nothing was. Every joined error
// is a *ParseError, the summary of unreported ones included, so that each
// carries a line to start from.
func (l *errorList) err() error {
	if len(l.errs) == 0 {
		return nil
	}
	errs := l.errs
	if l.dropped > 0 {
		errs = append(errs, &ParseError{Source: l.firstDrop.Source, Line: l.firstDrop.Line,
			Reason: fmt.Sprintf("%d more invalid entries from this line on not shown", l.dropped)})
	}
	return errors.Join(errs...)
}
