// Package explain classifies one SMTP reply, DSN, Exchange NDR string, mail
// log line or mail-client error code: what caused it (a fixed taxonomy, see
// taxonomy.go), whether the sending side will retry (temporary), who must act
// and how to fix it.
//
// The pipeline has three steps, each in its own file:
//
//  1. extract*.go turn one input into a Parsed form: basic reply code (RFC
//     5321 section 4.2), enhanced status code (RFC 3463), reply text, SMTP
//     stage, remote host and a status hint from the log format (Postfix
//     status=, Exim ==/**, DSN Action: of RFC 3464 section 2.3.3).
//  2. rules.toml (embedded, versioned) holds the knowledge as data: specific
//     rules per software and provider, then per-enhanced-code and per-basic-code
//     defaults. rules.go loads and validates it, index.go builds a keyword
//     automaton so one pass over the lower-cased text finds every rule that
//     can match, match.go picks the winner deterministically.
//  3. explain.go assembles the Result; the temporary flag follows the
//     project's conventions (design brief, "explain: the taxonomy"): the
//     status hint first, then the reply class, then the enhanced class.
//
// Code meanings always come from package reply, the project's one catalogue.
package explain
