// Package postfixpolicy is the Postfix policy delegation protocol front-end:
// it translates the wire format into a policy.Request, asks a Handler, and
// renders the policy.Verdict back. It holds no policy of its own.
//
// The protocol (Postfix SMTPD_POLICY_README, "Protocol description"): the
// client sends name=value lines terminated by an empty line; the server
// answers with "action=<access(5) action>" and an empty line. The connection
// is persistent and carries one request at a time. "In case of trouble the
// policy server must not send a reply. Instead the server must log a warning
// and disconnect", which is what Server does on every protocol error; Postfix
// then logs a warning and applies the check_policy_service default_action.
//
// Besides Postfix, Exim's ${readsocket} is a supported client: it writes one
// request, possibly without the final empty line, and shuts down its write
// side; ReadRequest accepts such an EOF-terminated request.
//
// Two attributes that Postfix never sends are reserved for `tempfail query`:
// x_tempfail_dry_run=yes sets Request.DryRun, and x_tempfail_verbose=yes asks
// the server to add x_tempfail_check=, x_tempfail_reason= and (when there is
// one) x_tempfail_detail= to its answer.
package postfixpolicy
