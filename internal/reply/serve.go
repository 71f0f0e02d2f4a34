package reply

// The default replies `tempfail serve` sends, one place for each (design
// brief, "Replies serve sends"). Texts are fmt templates where a number or
// an address is filled in; every text is overridable in config.
const (
	// GreylistEnhanced is RFC 3463 X.2.0 "other or undefined mailbox status",
	// the code postgrey and the seed's "450 4.2.0 ... Greylisted" use.
	GreylistEnhanced = "4.2.0"
	// GreylistText: %d is the real number of seconds left before a retry passes.
	GreylistText = "Greylisted, retry after %d seconds"
	// GreylistHeader is prepended on the first pass: %d is how long the
	// message was actually delayed.
	GreylistHeader = "X-Greylist: delayed %d seconds by tempfail"
)
