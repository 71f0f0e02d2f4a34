package lists

import "fmt"

// Entry is one list entry as the administrator wrote it, kept so that a
// match can be logged as "exempt because of google.com (clients.txt:42)".
type Entry struct {
	Text   string // the entry, comment and surrounding space removed
	Source string // file path, "default_clients.txt", "inline", …
	Line   int    // 1-based line (or position, for inline entries)
}

// String renders the entry with its origin, for logs.
func (e Entry) String() string {
	return fmt.Sprintf("%s (%s:%d)", e.Text, e.Source, e.Line)
}
