// Package trace is the message model of `tempfail trace` and `tempfail
// report` (issue 6): a Correlator that consumes maillog events and follows
// each message across its whole life.
//
// Postfix: smtpd "client=" (or pickup "uid=") -> cleanup "message-id=" ->
// qmgr "from=, size=, nrcpt=" -> one Attempt per recipient per delivery try
// (time, relay, dsn, status, reply, delay and its a/b/c/d split, conn_use,
// TLS level from the same process's "TLS connection established" line) ->
// the recipient's final Outcome -> qmgr "removed", when the Message is
// emitted. Also followed: "status=expired, returned to sender" (pending
// recipients become expired), the bounce notification ("sender
// non-delivery notification: ID" links both ways), content-filter
// re-injection ("250 ... queued as ID" to a loopback relay, or smtpd
// "orig_queue_id=") which joins the second queue id to the same Message,
// queue id reuse (a new "client="/"uid=" on an open id emits the old
// message), postsuper hold/release/delete, and rejects: NOQUEUE rejects
// become Messages of their own, a cleanup/milter reject ends its message.
//
// Exim: "<=" opens the message (a "<= <> R=id" bounce links to id), "=>",
// "->", "*>", "==", "**" are attempts, "Completed" emits it.
//
// Memory is bounded by the messages still open: each is emitted as soon as
// it is complete; Options.MaxOpen caps the rest (oldest evicted first,
// counted); Flush emits what is left at the end of input with its pending
// recipients "deferred" (still queued).
//
// Causes come from a Classifier (classify.go). ExplainClassifier
// (explain.go) is the one `tempfail trace` and `tempfail report` use: each
// attempt and reject is classified by internal/explain, the same rules as
// `tempfail explain`, and keeps the first sentence of its summary as Why.
// DefaultClassifier (cause "other", temporary from the status alone) is for
// tests and tools that do not want explain's rules.
package trace
