package reply

// Basic SMTP reply codes used by tempfail (RFC 5321 section 4.2.3).
const (
	CodeServiceUnavailable = 421 // closing transmission channel
	CodeMailboxBusy        = 450 // mailbox unavailable (busy, or blocked for policy reasons)
	CodeLocalError         = 451 // local error in processing
	CodeInsufficientSpace  = 452 // insufficient system storage
	CodeMailboxUnavailable = 550 // mailbox unavailable / policy rejection
	CodeTransactionFailed  = 554 // transaction failed
)

// Class of a basic code: 2, 3, 4 or 5 (0 when out of range).
func Class(code int) int {
	if code < 200 || code > 599 {
		return 0
	}
	return code / 100
}
