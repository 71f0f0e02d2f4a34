package explain

import (
	"strings"
	"testing"
)

// TestBuiltinRules: the embedded file loads, and every rule has a source,
// valid cause/actor names and compiles (Load checks these; this test pins
// that it does and that the file is not trivially small).
func TestBuiltinRules(t *testing.T) {
	rs, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	if rs.Version != RulesVersion || rs.Revision == "" {
		t.Errorf("version %d revision %q", rs.Version, rs.Revision)
	}
	if rs.Len() < 40 {
		t.Errorf("only %d rules", rs.Len())
	}
	for _, r := range rs.rules {
		s := r.spec
		if !strings.HasPrefix(s.Source, "http") {
			t.Errorf("rule %s: source %q is not a URL", s.ID, s.Source)
		}
		if !validCause(s.Cause) || !validActor(s.Actor) {
			t.Errorf("rule %s: cause %q actor %q", s.ID, s.Cause, s.Actor)
		}
	}
	for k, c := range rs.enhanced {
		if !validCause(c.Cause) || c.Source == "" {
			t.Errorf("enhanced %s: cause %q source %q", k, c.Cause, c.Source)
		}
	}
	// Every cause of the taxonomy is reachable from some rule or table row.
	seen := map[string]bool{}
	for _, r := range rs.rules {
		seen[r.spec.Cause] = true
	}
	for _, c := range Causes {
		if !seen[c] {
			t.Errorf("no rule produces cause %s", c)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	const ok = `
[[rule]]
id = "x"
source = "https://example.org"
any = ["foo"]
cause = "other"
actor = "both"
summary = "s"
fix = ["f"]
resolves = "r"
`
	tests := []struct {
		name, text, want string
	}{
		{"unknown key with line", "version = 1\n" + ok + "colour = \"red\"\n", `rules.toml:12: unknown key "rule.colour"`},
		{"wrong version", "version = 2\n" + ok, "this tempfail reads version 1"},
		{"syntax", "version = 1\n[[rule]\n", "rules.toml:3:"},
		{"bad cause", "version = 1\n" + strings.Replace(ok, `"other"`, `"greylist"`, 1), `unknown cause "greylist"`},
		{"bad actor", "version = 1\n" + strings.Replace(ok, `"both"`, `"nobody"`, 1), `unknown actor "nobody"`},
		{"no source", "version = 1\n" + strings.Replace(ok, `source = "https://example.org"`, ``, 1), "needs a source"},
		{"no keyword", "version = 1\n" + strings.Replace(ok, `any = ["foo"]`, ``, 1), "needs at least one keyword"},
		{"upper-case keyword", "version = 1\n" + strings.Replace(ok, `"foo"`, `"Foo"`, 1), "must be lower case"},
		{"bad regex", "version = 1\n" + ok + "regex = '('\n", "regex"},
		{"duplicate id", "version = 1\n" + ok + ok, "duplicate id"},
		{"bad enhanced", "version = 1\n" + ok + "enhanced = [\"4.7\"]\n", "not a status code"},
		{"bad stage", "version = 1\n" + ok + "stages = [\"rcpt-to\"]\n", "unknown stage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load("rules.toml", []byte(tt.text))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	if _, err := Load("rules.toml", []byte("version = 1\n"+ok)); err != nil {
		t.Errorf("valid file: %v", err)
	}
}

// TestPrecedence: priority first, then file order; the winner does not
// depend on map iteration or keyword order in the text.
func TestPrecedence(t *testing.T) {
	text := `version = 1
[[rule]]
id = "low"
source = "https://example.org"
any = ["alpha"]
cause = "other"
actor = "both"
summary = "s"
fix = ["f"]
resolves = "r"
[[rule]]
id = "first"
source = "https://example.org"
priority = 5
any = ["beta"]
cause = "timeout"
actor = "both"
summary = "s"
fix = ["f"]
resolves = "r"
[[rule]]
id = "second"
source = "https://example.org"
priority = 5
any = ["alpha"]
cause = "greylisting"
actor = "nobody-wait"
summary = "s"
fix = ["f"]
resolves = "r"
`
	rs, err := Load("t.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := New(rs)
	for i := 0; i < 20; i++ {
		for _, in := range []string{"450 alpha beta", "450 beta alpha"} {
			if r := e.Explain(in); r.Rule != "first" {
				t.Fatalf("%q: rule %s, want first", in, r.Rule)
			}
		}
	}
	if r := e.Explain("450 alpha"); r.Rule != "second" {
		t.Errorf("rule %s, want second (priority 5 beats 0)", r.Rule)
	}
}

func TestKeywordBoundaries(t *testing.T) {
	text := `version = 1
[[rule]]
id = "ptr"
source = "https://example.org"
any = ['\bptr\b']
cause = "client_reverse_dns"
actor = "sender"
summary = "s"
fix = ["f"]
resolves = "r"
`
	rs, err := Load("t.toml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	e, _ := New(rs)
	if r := e.Explain("550 no PTR record"); r.Rule != "ptr" {
		t.Errorf("word match: rule %q", r.Rule)
	}
	if r := e.Explain("550 interrupted ptrs"); r.Rule == "ptr" {
		t.Errorf("matched inside a word")
	}
}

// TestFallbacks: no rule matches, the code tables answer. The text is a
// word no labelled entry holds ("qxzv"): the word model does not know it.
func TestFallbacks(t *testing.T) {
	e := mustExplainer(t)
	tests := []struct {
		in, cause, actor, rule string
		temporary              bool
	}{
		{"452 4.2.2 qxzv", CauseMailboxFull, ActorReceiver, "enhanced:x.2.2", true},
		{"550 5.7.26 qxzv", CauseSPFDMARC, ActorSender, "enhanced:x.7.26", false},
		{"451 4.4.3 qxzv", CauseDNSLookupFailure, ActorBoth, "enhanced:x.4.3", true},
		{"421 qxzv", CauseServerBusy, ActorNobodyWait, "basic:421", true},
		{"452 qxzv", CauseServerBusy, ActorReceiver, "basic:452", true},
		{"455 qxzv", CauseOther, ActorBoth, "basic:4xx", true},
		{"554 qxzv", CauseOther, ActorBoth, "basic:5xx", false},
		{"qxzv", CauseOther, ActorBoth, "none", false},
	}
	for _, tt := range tests {
		r := e.Explain(tt.in)
		if r.Cause != tt.cause || r.Actor != tt.actor || r.Rule != tt.rule || r.Temporary != tt.temporary {
			t.Errorf("%q: %s/%s/%s/%v, want %s/%s/%s/%v", tt.in, r.Cause, r.Actor, r.Rule, r.Temporary, tt.cause, tt.actor, tt.rule, tt.temporary)
		}
		if r.Summary == "" || len(r.Fix) == 0 {
			t.Errorf("%q: no summary or fix", tt.in)
		}
	}
	if r := e.Explain("qxzv"); r.Hint == "" {
		t.Error("unknown input without a hint")
	}
}

// TestTemporaryConventions: the design brief's rules for the flag.
func TestTemporaryConventions(t *testing.T) {
	e := mustExplainer(t)
	tests := []struct {
		in   string
		want bool
	}{
		{"450 4.7.1 Greylisted", true},
		{"550 5.1.1 User unknown", false},
		{"ID: to=<a@b>, relay=x[1.2.3.4]:25, dsn=5.1.1, status=deferred (host x[1.2.3.4] said: 550 5.1.1 User unknown (in reply to RCPT TO command))", true},
		{"ID: to=<a@b>, relay=x[1.2.3.4]:25, dsn=4.7.1, status=bounced (host x[1.2.3.4] said: 450 4.7.1 Greylisted (in reply to RCPT TO command))", false},
		{"1rAbc-000 ** a@b R=r T=t H=x [1.2.3.4]: SMTP error from remote mail server after RCPT TO:<a@b>: 450 4.7.1 Greylisted", false},
		{"1rAbc-000 == a@b R=r T=t defer (-44) H=x [1.2.3.4]: SMTP error from remote mail server after RCPT TO:<a@b>: 550 5.1.1 unknown", true},
		{"Action: delayed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 x", true},
		{"Action: failed\nStatus: 4.4.7\nDiagnostic-Code: smtp; 450 x", false},
		{"Status: 4.4.7\nDiagnostic-Code: X-Postfix; message expired", false},
		{"4.4.7 Message expired", false},
		{"400 4.4.7 Message delayed", true},
	}
	for _, tt := range tests {
		if r := e.Explain(tt.in); r.Temporary != tt.want {
			t.Errorf("%.70q: temporary = %v, want %v (rule %s)", tt.in, r.Temporary, tt.want, r.Rule)
		}
	}
}

// TestSpecificExplanations: rate limits say whose limit, blocklists name
// the list.
func TestSpecificExplanations(t *testing.T) {
	e := mustExplainer(t)
	r := e.Explain("554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.1")
	if r.Cause != CauseBlocklist || !strings.Contains(r.Summary, "zen.spamhaus.org") || r.Provider != "spamhaus" {
		t.Errorf("spamhaus: %s %q %s", r.Cause, r.Summary, r.Provider)
	}
	r = e.Explain("554 Service unavailable; Client host [192.0.2.1] blocked using bl.spamcop.net")
	if r.Cause != CauseBlocklist || !strings.Contains(r.Summary, "bl.spamcop.net") {
		t.Errorf("spamcop: %s %q", r.Cause, r.Summary)
	}
	r = e.Explain("450 4.2.1 The user you are trying to contact is receiving mail too quickly")
	if r.Cause != CauseRateLimit || r.Actor != ActorNobodyWait || !strings.Contains(r.Summary, "Per-recipient") {
		t.Errorf("per-recipient: %s %s %q", r.Cause, r.Actor, r.Summary)
	}
	r = e.Explain("421 Too many concurrent SMTP connections from this IP address; please try again later.")
	if r.Cause != CauseRateLimit || r.Actor != ActorSender || !strings.Contains(r.Summary, "per sending IP") {
		t.Errorf("per-IP: %s %s %q", r.Cause, r.Actor, r.Summary)
	}
}
