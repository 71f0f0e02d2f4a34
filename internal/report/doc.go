// Package report summarises mail logs for `tempfail report` (issue 6):
// totals; deferrals by cause (from internal/explain, through
// trace.ExplainClassifier), by destination domain and by relay, with the
// messages affected and the worst delay; messages stuck in the queue;
// recipients whose deferrals ended in a permanent failure; greylisting
// from both sides; rate-limit hits; SMTP AUTH problems; deferrals over time
// and the delivery delay distribution.
//
// An Aggregator takes finished messages from a trace.Correlator (and the
// raw events for what is not part of a message: SASL failures, the time
// span). Its memory is bounded by Options (rows per table, list lengths,
// pending greylisted triplets, timeline buckets whose width doubles as
// needed), never by the size of the log.
//
// Output: WriteText (terminal), JSON (encoding/json of Report: its field
// names are the contract), WriteHTML (one self-contained file: inline CSS,
// charts as SVG drawn here, a few lines of inline script to sort tables,
// and a Content-Security-Policy that forbids loading anything).
package report
