// Package maillog reads mail server logs as a stream of typed events: the
// foundation of `tempfail trace` and `tempfail report` (issue 6).
//
// Framing (header.go). One Parser handles, line by line and mixed in one
// stream:
//   - RFC 3164 syslog: "Nov 27 11:08:40 host postfix/smtpd[123]: ..." (day
//     space- or zero-padded; the year is inferred, see Parser.Reference);
//     an optional "<PRI>" prefix is skipped. Postfix's own maillog_file
//     (postlogd, Postfix >= 3.4) writes this same form ("%b %d %H:%M:%S",
//     first host name label; util/msg_logger.c), so it needs no mode.
//   - RFC 5424: "<22>1 2026-11-27T11:08:40.123456+00:00 host postfix/smtp 123 - - ...".
//   - ISO 8601 stamps as rsyslog's RSYSLOG_FileFormat and journalctl -o
//     short-iso / short-iso-precise write them:
//     "2026-11-27T11:08:40.123456+00:00 host postfix/smtp[123]: ...",
//     "2026-11-27T11:08:40+0100 host postfix/smtp[123]: ...".
//   - Exim's own main log: "2026-11-27 11:08:40[.123][ +0100] [pid] 1tXyz1-... <= ...",
//     and Exim lines sent to syslog (tag exim/exim4, with or without Exim's
//     own stamp inside).
//
// Every line keeps its host, so several hosts can share one stream. The
// syslog tag is split into Daemon (its last path element: smtpd, smtp,
// qmgr...) and Instance (the rest: "postfix", "postfix-out",
// "postfix/submission"), so multi-instance setups and master.cf services
// with their own syslog_name are understood: any tag with a "/" whose last
// element is a Postfix daemon or common transport name is read as Postfix.
//
// Content (postfix.go, exim.go): parsed by hand with strings.Index and
// friends, no regular expressions, one string allocation per line. Lines
// that cannot be framed, or Postfix/Exim lines whose structure is broken
// (a truncated status line, junk), are KindUnparsed; Reader counts them and
// keeps the first few with file and line number. Nothing is ever fatal.
//
// Input (reader.go, files.go, follow.go): files plain or gzip (by magic
// bytes), rotated sets in order (SortRotated), stdin, and FollowSource for
// a growing file across rotation. Lines longer than Reader.MaxLine are
// skipped and counted without being buffered. Pump (pump.go) reads and
// parses in a goroutine of its own, into reused batches, while the caller
// consumes the events in order: parsing and correlating on two cores.
//
// The sample lines in testdata/ come from public sources, each cited next
// to it.
package maillog
