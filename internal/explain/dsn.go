package explain

import "strings"

// DSNInput is one per-recipient block found in a bounce message.
type DSNInput struct {
	Text   string // the block's fields, one per line, as found
	Parsed Parsed
}

// SplitDSN finds the per-recipient blocks of a whole bounce message or of a
// bare message/delivery-status part (RFC 3464 section 2: per-message fields,
// a blank line, then one block of per-recipient fields per recipient,
// separated by blank lines). It does not need the MIME structure: a block
// starts at Final-Recipient (or Original-Recipient) and ends at a blank line.
// When no recipient field is present, lone Status / Diagnostic-Code /
// Action fields form one block. Bad input gives no blocks, never a panic.
func SplitDSN(msg string) []DSNInput {
	var out []DSNInput
	var cur *dsnBlock
	flush := func() {
		if cur != nil && cur.useful() {
			out = append(out, DSNInput{Text: strings.Join(cur.raw, "\n"), Parsed: cur.parsed()})
		}
		cur = nil
	}
	var loose dsnBlock
	for _, line := range unfold(msg) {
		t := strings.TrimSpace(line)
		if t == "" {
			flush()
			continue
		}
		lower := lowerASCII(t)
		final := strings.HasPrefix(lower, "final-recipient:")
		orig := strings.HasPrefix(lower, "original-recipient:")
		if final || orig {
			// Postfix writes Final- before Original-Recipient, RFC 3464
			// the other way round: a repeated field or one after the
			// block's other fields starts the next recipient.
			if cur != nil && (cur.sawOther || (final && cur.sawFinal) || (orig && cur.sawOriginal)) {
				flush()
			}
			if cur == nil {
				cur = &dsnBlock{}
			}
			cur.sawFinal = cur.sawFinal || final
			cur.sawOriginal = cur.sawOriginal || orig
		} else if cur != nil {
			cur.sawOther = true
		}
		if cur != nil {
			if cur.set(t) {
				cur.raw = append(cur.raw, t)
			}
			continue
		}
		if len(out) == 0 && isDSNFields(lower) && !strings.HasPrefix(lower, "reporting-mta:") {
			if loose.set(t) {
				loose.raw = append(loose.raw, t)
			}
		}
	}
	flush()
	if len(out) == 0 && loose.useful() {
		out = append(out, DSNInput{Text: strings.Join(loose.raw, "\n"), Parsed: loose.parsed()})
	}
	return out
}
