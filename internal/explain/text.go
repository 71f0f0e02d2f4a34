package explain

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteText prints a Result for people: a headline (cause, temporary or
// permanent, who must act), the reply as understood, the summary, numbered
// fix steps, what to expect, and where the wording comes from.
func WriteText(w io.Writer, r Result) error {
	var b strings.Builder
	kind := "final: not retried, fix the cause and resend"
	if r.Temporary {
		kind = "temporary: the sending server keeps the message and retries"
	}
	fmt.Fprintf(&b, "%s — %s; %s\n", r.Cause, kind, actorLine(r.Actor))
	var codes []string
	if r.Code != 0 {
		codes = append(codes, strconv.Itoa(r.Code))
	}
	if r.Enhanced != "" {
		codes = append(codes, r.Enhanced+" ("+r.EnhancedMeaning+")")
	}
	line := strings.Join(codes, " ")
	if r.Reply != "" {
		if line != "" {
			line += ": "
		}
		line += clip(r.Reply, 200)
	}
	if line != "" {
		fmt.Fprintf(&b, "  reply:    %s\n", line)
	}
	var where []string
	if r.Stage != StageUnknown && r.Stage != "" {
		where = append(where, "stage "+r.Stage)
	}
	if r.Remote != "" {
		where = append(where, "remote "+r.Remote)
	}
	if r.Provider != "" {
		where = append(where, "provider "+r.Provider)
	}
	if r.Recipient != "" {
		where = append(where, "recipient "+r.Recipient)
	}
	if len(where) > 0 {
		fmt.Fprintf(&b, "  where:    %s\n", strings.Join(where, ", "))
	}
	fmt.Fprintf(&b, "  what:     %s\n", r.Summary)
	for i, f := range r.Fix {
		label := "          "
		if i == 0 {
			label = "  fix:    "
		}
		fmt.Fprintf(&b, "%s %d. %s\n", label, i+1, f)
	}
	fmt.Fprintf(&b, "  resolves: %s\n", r.Resolves)
	if r.Hint != "" {
		fmt.Fprintf(&b, "  hint:     %s\n", r.Hint)
	}
	src := r.Rule
	if r.Software != "" {
		src += ", " + r.Software
	}
	if r.Source != "" {
		src += " — " + r.Source
	}
	fmt.Fprintf(&b, "  source:   %s\n", src)
	_, err := io.WriteString(w, b.String())
	return err
}

func actorLine(a string) string {
	switch a {
	case ActorSender:
		return "the sender must act"
	case ActorReceiver:
		return "the receiver must act"
	case ActorBoth:
		return "either side may hold the fix"
	case ActorNobodyWait:
		return "nobody needs to act: wait"
	}
	return a
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
