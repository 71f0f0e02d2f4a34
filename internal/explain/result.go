package explain

// Result is the explanation of one input. The JSON names are the public
// contract of `tempfail explain --json` (issue 3); add fields, never rename.
type Result struct {
	Input           string   `json:"input"`
	Cause           string   `json:"cause"`
	Temporary       bool     `json:"temporary"`
	Actor           string   `json:"actor"`
	Code            int      `json:"code"`
	Enhanced        string   `json:"enhanced"`
	EnhancedMeaning string   `json:"enhanced_meaning"`
	Stage           string   `json:"stage"`
	Remote          string   `json:"remote"`
	Provider        string   `json:"provider"`
	Summary         string   `json:"summary"`
	Fix             []string `json:"fix"`
	Resolves        string   `json:"resolves"`

	// Extras: which rule decided, about which software, and where its
	// wording comes from; Hint says what to look at when nothing specific
	// matched. Reply is the reply text as extracted, Recipient the DSN's
	// Final-Recipient in --dsn mode.
	Rule      string `json:"rule,omitempty"`
	Software  string `json:"software,omitempty"`
	Source    string `json:"source,omitempty"`
	Hint      string `json:"hint,omitempty"`
	Reply     string `json:"reply,omitempty"`
	Recipient string `json:"recipient,omitempty"`
}
