package lists

import (
	"regexp"
	"regexp/syntax"
	"strings"
)

// listRegexp is a compiled /regexp/ entry.
type listRegexp struct {
	re *regexp.Regexp
	// suffix is a literal the subject must end with for re to match at
	// all (".telekom.de" for /^mail\d+\.telekom\.de$/), lower-cased; ""
	// when unknown. Nearly every real entry is anchored like that, and a
	// HasSuffix test is far cheaper than running the regexp.
	suffix string
	idx    int32 // index of the rule in its list
}

// isRegexpEntry reports whether s is written /like this/.
func isRegexpEntry(s string) bool {
	return len(s) >= 2 && s[0] == '/' && s[len(s)-1] == '/'
}

// compileEntry compiles the body of a /regexp/ entry. postgrey compiles
// entries with qr{...}i, so matching is case-insensitive here too; the
// syntax is Go's RE2, which covers what postgrey lists use (\d, \w, (?:),
// lazy quantifiers) but not look-around or back-references.
func compileEntry(s string) (*listRegexp, string, error) {
	body := s[1 : len(s)-1]
	if body == "" {
		return nil, "empty regexp", nil
	}
	re, err := regexp.Compile("(?i)" + body)
	if err != nil {
		return nil, "regexp does not compile (Go RE2 syntax): " + regexpReason(err), err
	}
	return &listRegexp{re: re, suffix: literalSuffix(body)}, "", nil
}

// regexpReason strips the "error parsing regexp: " prefix Go puts on syntax
// errors; our message already says it is a regexp.
func regexpReason(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}

// match runs the regexp on lower, the lower-cased subject, skipping it
// when the literal suffix rules a match out. ascii tells whether lower is
// pure ASCII: only then is the shortcut exact, since with (?i) 'k' also
// matches the Kelvin sign, which lower-casing does not turn into 'k'.
// Callers lower-case and test once per lookup, not once per regexp.
func (r *listRegexp) match(lower string, ascii bool) bool {
	if ascii && r.suffix != "" && !strings.HasSuffix(lower, r.suffix) {
		return false
	}
	return r.re.MatchString(lower)
}

// literalSuffix finds the literal text that must end any match of body,
// if body is a concatenation ending in "literal$". It returns "" when it
// cannot tell, which merely disables the shortcut.
func literalSuffix(body string) string {
	re, err := syntax.Parse(body, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 {
		return ""
	}
	subs := re.Sub
	if subs[len(subs)-1].Op != syntax.OpEndText {
		return ""
	}
	var rs []rune
	for i := len(subs) - 2; i >= 0 && subs[i].Op == syntax.OpLiteral; i-- {
		rs = append(append([]rune{}, subs[i].Rune...), rs...)
	}
	for _, r := range rs {
		if r >= 0x80 {
			return "" // case folding beyond ASCII: don't guess
		}
	}
	return strings.ToLower(string(rs))
}
