package explain

import (
	_ "embed"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/tempfail/tempfail/internal/reply"
)

//go:embed rules.toml
var builtinRules []byte

// RulesVersion is the rule-file format this code reads. A file with another
// version is refused rather than half-understood.
const RulesVersion = 1

// ruleFile is the shape of rules.toml (docs/explain.md, "The rule file").
type ruleFile struct {
	Version  int            `toml:"version"`
	Revision string         `toml:"revision"`
	Provider []providerSpec `toml:"provider"`
	Rule     []ruleSpec     `toml:"rule"`
	Enhanced []codeSpec     `toml:"enhanced"`
	Basic    []codeSpec     `toml:"basic"`
	Cause    []codeSpec     `toml:"cause"` // one per cause, code empty: the word model's texts
}

// providerSpec names a mail provider from keywords in the reply or the
// remote host name (e.g. "gsmtp", "protection.outlook.com").
type providerSpec struct {
	Name   string   `toml:"name"`
	Any    []string `toml:"any"`
	Source string   `toml:"source"`
}

// ruleSpec is one specific rule. Conditions are ANDed; keywords are
// lower-case literals matched as substrings of the lower-cased text, a
// leading or trailing `\b` asks for a word boundary there.
type ruleSpec struct {
	ID       string `toml:"id"`
	Software string `toml:"software"`
	Provider string `toml:"provider"`
	Source   string `toml:"source"`
	Priority int    `toml:"priority"`

	Any      []string `toml:"any"`      // at least one must occur
	All      []string `toml:"all"`      // every one must occur
	Not      []string `toml:"not"`      // none may occur
	Regex    string   `toml:"regex"`    // confirms (and captures for {name} placeholders); run last
	Capture  string   `toml:"capture"`  // captures for {name} placeholders when it matches; never vetoes
	Codes    []int    `toml:"codes"`    // basic code in this list (0 = no basic code)
	Enhanced []string `toml:"enhanced"` // enhanced code equal to, or starting with a "4.7." prefix
	Class    int      `toml:"class"`    // 4 or 5: the reply's class (basic, else enhanced)
	Stages   []string `toml:"stages"`   // extracted stage in this list
	Hints    []string `toml:"hints"`    // status hint in this list

	Cause    string   `toml:"cause"`
	Actor    string   `toml:"actor"`
	Summary  string   `toml:"summary"`
	Fix      []string `toml:"fix"`
	Resolves string   `toml:"resolves"`
	Hint     string   `toml:"hint"`
	Stage    string   `toml:"stage"` // stage to report when the input names none

	// Temporary overrides the conventions (an expiry is final even with a
	// 4.x.x code); AssumeTemporary applies only when neither a code nor a
	// log status says anything (a bare "Connection timed out").
	Temporary       *bool `toml:"temporary"`
	AssumeTemporary *bool `toml:"assume_temporary"`
}

// codeSpec is one row of the enhanced-code or basic-code fallback table.
type codeSpec struct {
	Code     string   `toml:"code"` // "4.2.2", "x.1.1" (either class), "452", "4xx"
	Cause    string   `toml:"cause"`
	Actor    string   `toml:"actor"`
	Summary  string   `toml:"summary"`
	Fix      []string `toml:"fix"`
	Resolves string   `toml:"resolves"`
	Hint     string   `toml:"hint"`
	Source   string   `toml:"source"`
}

// Rules is a compiled rule set, safe for concurrent use.
type Rules struct {
	Version   int
	Revision  string
	rules     []*rule // in precedence order: priority desc, then file order
	providers []provider
	enhanced  map[string]*codeSpec
	basic     map[string]*codeSpec
	byCause   map[string]*codeSpec
	ac        *automaton
	nkw       int
	byKeyword [][]int32 // keyword id -> indexes into rules of the rules using it in any/all
}

type rule struct {
	spec          *ruleSpec
	order         int
	any, all, not []int // keyword ids
	re, capture   *regexp.Regexp
	templated     bool
}

type provider struct {
	name string
	any  []int
}

// LoadBuiltin compiles the embedded rules.toml.
func LoadBuiltin() (*Rules, error) { return Load("rules.toml", builtinRules) }

// Load parses and compiles a rule file. name is used in error messages,
// which carry line numbers: unknown keys are rejected, not ignored, so a
// misspelt condition cannot silently widen a rule.
func Load(name string, text []byte) (*Rules, error) {
	var f ruleFile
	md, err := toml.Decode(string(text), &f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d: %s", name, pe.Position.Line, strings.TrimSpace(pe.Message))
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return nil, fmt.Errorf("%s:%d: unknown key %q", name, keyLine(text, und[0]), und[0].String())
	}
	if f.Version != RulesVersion {
		return nil, fmt.Errorf("%s: version = %d, this tempfail reads version %d", name, f.Version, RulesVersion)
	}
	return compile(name, text, &f)
}

func compile(name string, text []byte, f *ruleFile) (*Rules, error) {
	rs := &Rules{Version: f.Version, Revision: f.Revision,
		enhanced: map[string]*codeSpec{}, basic: map[string]*codeSpec{}, byCause: map[string]*codeSpec{}}
	kw := newKeywords()
	seen := map[string]bool{}
	for i := range f.Rule {
		s := &f.Rule[i]
		at := fmt.Sprintf("%s:%d: rule %q", name, idLine(text, "rule", s.ID, i), s.ID)
		if err := validateRule(s, seen); err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		r := &rule{spec: s, order: i}
		var err error
		if r.any, err = kw.ids(s.Any); err == nil {
			if r.all, err = kw.ids(s.All); err == nil {
				r.not, err = kw.ids(s.Not)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		if s.Regex != "" {
			if r.re, err = regexp.Compile(s.Regex); err != nil {
				return nil, fmt.Errorf("%s: regex: %w", at, err)
			}
		}
		if s.Capture != "" {
			if r.capture, err = regexp.Compile(s.Capture); err != nil {
				return nil, fmt.Errorf("%s: capture: %w", at, err)
			}
		}
		r.templated = strings.Contains(s.Summary+strings.Join(s.Fix, "")+s.Resolves, "{")
		rs.rules = append(rs.rules, r)
	}
	sort.SliceStable(rs.rules, func(a, b int) bool { return rs.rules[a].spec.Priority > rs.rules[b].spec.Priority })
	for i := range f.Provider {
		p := &f.Provider[i]
		if p.Name == "" || len(p.Any) == 0 {
			return nil, fmt.Errorf("%s: provider #%d: needs name and any", name, i+1)
		}
		ids, err := kw.ids(p.Any)
		if err != nil {
			return nil, fmt.Errorf("%s: provider %q: %w", name, p.Name, err)
		}
		rs.providers = append(rs.providers, provider{name: p.Name, any: ids})
	}
	for _, tbl := range []struct {
		what string
		rows []codeSpec
		m    map[string]*codeSpec
	}{{"enhanced", f.Enhanced, rs.enhanced}, {"basic", f.Basic, rs.basic}} {
		for i := range tbl.rows {
			c := &tbl.rows[i]
			if err := validateCode(tbl.what, c); err != nil {
				return nil, fmt.Errorf("%s: [[%s]] %q: %w", name, tbl.what, c.Code, err)
			}
			if tbl.m[c.Code] != nil {
				return nil, fmt.Errorf("%s: [[%s]] %q: duplicate", name, tbl.what, c.Code)
			}
			tbl.m[c.Code] = c
		}
	}
	for i := range f.Cause {
		c := &f.Cause[i]
		if err := validateCode("cause", c); err != nil {
			return nil, fmt.Errorf("%s: [[cause]] %q: %w", name, c.Cause, err)
		}
		if rs.byCause[c.Cause] != nil {
			return nil, fmt.Errorf("%s: [[cause]] %q: duplicate", name, c.Cause)
		}
		rs.byCause[c.Cause] = c
	}
	if len(f.Cause) > 0 {
		// The word model may name any cause: each needs its text.
		for _, c := range Causes {
			if rs.byCause[c] == nil {
				return nil, fmt.Errorf("%s: [[cause]] %q missing (every cause needs one when the table is used)", name, c)
			}
		}
	}
	rs.ac = kw.build()
	rs.nkw = kw.n()
	rs.byKeyword = make([][]int32, rs.nkw)
	for i, r := range rs.rules {
		for _, id := range append(append([]int{}, r.any...), r.all...) {
			l := rs.byKeyword[id]
			if len(l) == 0 || l[len(l)-1] != int32(i) {
				rs.byKeyword[id] = append(l, int32(i))
			}
		}
	}
	return rs, nil
}

func validateRule(s *ruleSpec, seen map[string]bool) error {
	switch {
	case s.ID == "":
		return errors.New("needs an id")
	case seen[s.ID]:
		return errors.New("duplicate id")
	case s.Source == "":
		return errors.New("needs a source (where the wording comes from)")
	case len(s.Any)+len(s.All) == 0:
		return errors.New("needs at least one keyword in any or all (rules are found by keyword)")
	case !validCause(s.Cause):
		return fmt.Errorf("unknown cause %q", s.Cause)
	case !validActor(s.Actor):
		return fmt.Errorf("unknown actor %q", s.Actor)
	case s.Summary == "" || len(s.Fix) == 0 || s.Resolves == "":
		return errors.New("needs summary, fix and resolves")
	case s.Class != 0 && s.Class != 2 && s.Class != 4 && s.Class != 5:
		return fmt.Errorf("class %d: want 2, 4 or 5", s.Class)
	}
	seen[s.ID] = true
	for _, st := range append(append([]string{}, s.Stages...), s.Stage) {
		if st != "" && stageFromVerbName(st) == "" {
			return fmt.Errorf("unknown stage %q", st)
		}
	}
	for _, h := range s.Hints {
		if h != HintDeferred && h != HintFailed && h != HintExpired && h != HintSent {
			return fmt.Errorf("unknown hint %q", h)
		}
	}
	for _, e := range s.Enhanced {
		if !strings.HasSuffix(e, ".") {
			if _, ok := reply.ParseStatus(e); !ok {
				return fmt.Errorf("enhanced %q is not a status code or a prefix ending in '.'", e)
			}
		}
	}
	return nil
}

func validateCode(what string, c *codeSpec) error {
	switch {
	case c.Source == "":
		return errors.New("needs a source")
	case !validCause(c.Cause):
		return fmt.Errorf("unknown cause %q", c.Cause)
	case !validActor(c.Actor):
		return fmt.Errorf("unknown actor %q", c.Actor)
	case c.Summary == "" || len(c.Fix) == 0 || c.Resolves == "":
		return errors.New("needs summary, fix and resolves")
	}
	if what == "cause" {
		if c.Code != "" {
			return errors.New("a [[cause]] entry has no code")
		}
		return nil
	}
	if what == "enhanced" {
		k := c.Code
		if strings.HasPrefix(k, "x.") {
			k = "4" + k[1:]
		}
		if _, ok := reply.ParseStatus(k); !ok {
			return errors.New("code is not an enhanced status code (or x.S.D)")
		}
		return nil
	}
	if len(c.Code) != 3 || c.Code[0] < '2' || c.Code[0] > '5' || (c.Code[1:] != "xx" && !(isDigit(c.Code[1]) && isDigit(c.Code[2]))) {
		return errors.New("code is not a basic code (or 4xx/5xx)")
	}
	return nil
}

func stageFromVerbName(s string) string {
	switch s {
	case StageConnect, StageHelo, StageMail, StageRcpt, StageData, StageEndOfData, StageUnknown:
		return s
	}
	return ""
}

// Len is the number of specific rules.
func (rs *Rules) Len() int { return len(rs.rules) }

// keyLine finds the line of an undecoded key (BurntSushi/toml reports none):
// the first "name =" line below a header of the key's table.
func keyLine(text []byte, k toml.Key) int {
	if len(k) == 0 {
		return 0
	}
	table := strings.Join(k[:len(k)-1], ".")
	last := k[len(k)-1]
	cur := ""
	for i, line := range strings.Split(string(text), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "[") {
			cur = strings.Trim(strings.SplitN(l, "#", 2)[0], "[] \t")
			if cur == strings.Join(k, ".") {
				return i + 1
			}
			continue
		}
		if cur != table {
			continue
		}
		if eq := strings.IndexByte(l, '='); eq > 0 && strings.Trim(strings.TrimSpace(l[:eq]), `"'`) == last {
			return i + 1
		}
	}
	return 0
}

// idLine finds the line of `id = "X"` (or the n-th [[table]] header when
// the id is empty) for error messages.
func idLine(text []byte, table, id string, n int) int {
	count := -1
	for i, line := range strings.Split(string(text), "\n") {
		l := strings.TrimSpace(line)
		if l == "[["+table+"]]" {
			count++
			if id == "" && count == n {
				return i + 1
			}
		}
		if id != "" && strings.HasPrefix(l, "id") && strings.Contains(l, `"`+id+`"`) {
			return i + 1
		}
	}
	return 0
}
