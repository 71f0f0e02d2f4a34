package explain

import "strings"

// stageCue maps a lower-cased phrase to the SMTP stage it names. Order
// matters: longer, more specific phrases come first ("end of data" before
// "data"). The phrases are the ones MTAs use when they log which command a
// reply answered: Postfix "(in reply to RCPT TO command)" and "while
// sending ...", Exim "after RCPT TO:", Postfix smtpd "reject: RCPT from".
var stageCue = []struct{ phrase, stage string }{
	// Exim's LMTP transport answers per recipient after the message:
	// "LMTP error after DATA" is the end-of-data reply.
	{"lmtp error after data", StageEndOfData},
	{"lmtp error after end of data", StageEndOfData},
	{"in reply to end of data", StageEndOfData},
	{"in reply to rcpt to", StageRcpt},
	{"in reply to mail from", StageMail},
	{"in reply to data", StageData},
	{"in reply to message body", StageData},
	{"in reply to ehlo", StageHelo},
	{"in reply to helo", StageHelo},
	{"in reply to lhlo", StageHelo},
	{"in reply to starttls", StageHelo},
	{"in reply to auth", StageHelo},
	{"in reply to xforward", StageHelo},
	{"in reply to quit", StageEndOfData},
	{"after end of data", StageEndOfData},
	{"after pipelined end of data", StageEndOfData},
	{"after rcpt to", StageRcpt},
	{"after pipelined rcpt to", StageRcpt},
	{"after mail from", StageMail},
	{"after pipelined mail from", StageMail},
	{"after pipelined data", StageData},
	{"after data", StageData},
	{"after sending data block", StageData},
	{"after ehlo", StageHelo},
	{"after helo", StageHelo},
	{"after lhlo", StageHelo},
	{"after starttls", StageHelo},
	{"after auth", StageHelo},
	{"after initial connection", StageConnect},
	{"while receiving the initial server greeting", StageConnect},
	{"while performing the ehlo handshake", StageHelo},
	{"while performing the lhlo handshake", StageHelo},
	{"while performing the starttls", StageHelo},
	{"while sending ehlo", StageHelo},
	{"while sending helo", StageHelo},
	{"while sending starttls", StageHelo},
	{"while sending mail from", StageMail},
	{"while sending rcpt to", StageRcpt},
	{"while sending end of data", StageEndOfData},
	{"while sending data command", StageData},
	{"while sending message body", StageData},
	{"refused to talk to me", StageConnect},
	{"server greeting", StageConnect},
	{"invalid greeting", StageConnect},
	{"rejected rcpt", StageRcpt},
	{"rejected mail", StageMail},
	{"rejected ehlo", StageHelo},
	{"rejected helo", StageHelo},
	{"rejected after data", StageEndOfData},
	{"rejected connection", StageConnect},
	{"rejected data", StageData},
	// Other software's own words for the command that failed: qmail's
	// bounce "H does not like recipient." / "... sender.", Postfix
	// smtpd's "<DATA>: Data command rejected", PHP/Roundcube "Failed to add
	// recipient", "MAIL FROM failed", nodemailer "Mail command failed",
	// Python smtplib's exception names, PHPMailer's command names.
	{"does not like recipient", StageRcpt},
	{"does not like sender", StageMail},
	// qmail-remote: "Connected to H but sender was rejected." and
	// "H failed after I sent the message." (the reply to the final dot).
	{"failed after i sent the message", StageEndOfData},
	{"data command rejected", StageData},
	{"data command failed", StageData},
	{"failed to add recipient", StageRcpt},
	{"failed to set sender", StageMail},
	{"mail from failed", StageMail},
	{"mail from command failed", StageMail},
	{"mail command failed", StageMail},
	{"rcpt to command failed", StageRcpt},
	{"rcpt command failed", StageRcpt},
	{"data end command failed", StageEndOfData},
	{"smtprecipientsrefused", StageRcpt},
	{"smtpsenderrefused", StageMail},
	{"but sender was rejected", StageMail},
	{"but greeting failed", StageConnect},
	{"reject: end-of-message", StageEndOfData},
	// Client libraries and MTAs that quote the failed command itself:
	// emailjs "bad response on command 'RCPT'", Barracuda "rejected
	// command 'DATA' with code 550", OpenSMTPD's "Failed command on
	// session ...: "RCPT TO:<a@b>" => 550 ...".
	{"command 'rcpt", StageRcpt},
	{"command \"rcpt", StageRcpt},
	{"command 'mail", StageMail},
	{"command \"mail", StageMail},
	{"command 'data'", StageData},
	{"command \"data\"", StageData},
	{"command 'ehlo", StageHelo},
	{"command 'helo", StageHelo},
	{"command 'starttls", StageHelo},
	{"command 'auth", StageHelo},
	{": \"rcpt to:", StageRcpt},
	{": \"mail from:", StageMail},
	{": \"data\" =>", StageData},
	{": \".\" =>", StageEndOfData},
	{": \"ehlo ", StageHelo},
	{": \"helo ", StageHelo},
	{": \"starttls\" =>", StageHelo},
	// Library wording and stack frames that name the command: nodemailer
	// "Greeting never received", .NET System.Net.Mail's MailCommand /
	// RecipientCommand / DataStopCommand frames, MailKit's
	// ProcessMailFromResponse / ProcessRcptToResponse, JavaMail's
	// SMTPTransport.rcptTo / mailFrom, "could not get 3xx" (no 354 after
	// DATA), Postfix smtpd's "<END-OF-MESSAGE>: End-of-data rejected".
	{"greeting never received", StageConnect},
	{"mailcommand.", StageMail},
	{"recipientcommand.", StageRcpt},
	{"datastopcommand.", StageEndOfData},
	{"processmailfromresponse", StageMail},
	{"processrcpttoresponse", StageRcpt},
	{"smtptransport.rcptto", StageRcpt},
	{"smtptransport.mailfrom", StageMail},
	{"could not get 3xx", StageData},
	{"end-of-data rejected", StageEndOfData},
	// Session transcripts in bounces and client logs quote the command
	// the reply answered: sendmail ">>> RCPT To:<a@b>" / "<<< 550 ...",
	// client logs "--> RCPT TO:<a@b>" / "<-- 451 ..." (one cue for both:
	// leading dashes are trimmed with the code separators). RCPT before
	// MAIL: a transcript that reached RCPT failed there.
	{"> rcpt to:", StageRcpt},
	{"> mail from:", StageMail},
	// sendmail's check rulesets (log "ruleset=check_rcpt, arg1=<a@b>,
	// ... reject=550 ..."), and "closed connection during MAIL FROM".
	{"ruleset=check_rcpt", StageRcpt},
	{"ruleset=check_mail", StageMail},
	{"ruleset=check_relay", StageConnect},
	{"during rcpt to", StageRcpt},
	{"during mail from", StageMail},
	// A Postfix smtpd reject quoted without its "reject:" prefix.
	{"rcpt from ", StageRcpt},
}

// connectCue: socket-level failures happen before any reply (Postfix
// "connect to host[ip]:25: Connection timed out", Exim "defer (110)").
// Only used when the input has no reply code: inside a reply ("550 5.4.316
// Message expired, connection refused") they describe an earlier hop.
var connectCue = []string{
	"connect to ", "connection timed out", "connection refused", "no route to host", "network is unreachable",
	// qmail-remote: "Sorry, I wasn't able to establish an SMTP connection.
	// (#4.4.1)", logged by qmail-send with underscores for spaces.
	"establish an smtp connection", "establish_an_smtp_connection",
}

// stageFromText finds the stage named in a lower-cased text, "" if none.
// Only explicit cues count: "Recipient address rejected" alone says which
// restriction fired, not (with smtpd_delay_reject) which command it
// answered, so such a reply's stage is unknown. The earliest cue in
// stageCue order wins.
func stageFromText(lower string) string { return scanCues(lower).stageName() }

// stageFromVerb maps Postfix smtpd's "reject: VERB from" (the protocol
// state, as in the policy protocol's protocol_state) to a stage.
func stageFromVerb(v string) string {
	switch strings.ToUpper(v) {
	case "CONNECT":
		return StageConnect
	case "HELO", "EHLO", "STARTTLS", "AUTH":
		return StageHelo
	case "MAIL":
		return StageMail
	case "RCPT", "VRFY":
		return StageRcpt
	case "DATA":
		return StageData
	case "END-OF-MESSAGE":
		return StageEndOfData
	}
	return ""
}
