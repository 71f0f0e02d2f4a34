package reply

// Replies of the rate-limit check (design brief: "450 4.7.1 Rate limit for
// new clients exceeded (2/h), try again in N minutes", "450 4.7.1
// Throttled: ..."). Placeholders in braces are filled in by the check:
// {rate} the limit's rate ("2/h"), {wait} the time until a retry can pass
// ("27 minutes", rounded up), {seconds} the same in seconds, {name} the
// limit's name, {key} what was counted (a client address, a sender...),
// {user} the SASL user, {cost} and {burst} the request's cost and the
// limit's burst.
const (
	// CodeExceededStorage is 552, "requested mail action aborted: exceeded
	// storage allocation" (RFC 5321 section 4.2.3).
	CodeExceededStorage = 552

	// RateLimitEnhanced is X.7.1 "delivery not authorized, message
	// refused", the code of the seed's "450 4.7.1 ... rate limit for new
	// clients" and of "450 4.7.1 Throttled".
	RateLimitEnhanced       = "4.7.1"
	RateLimitRejectEnhanced = "5.7.1"
	// TooManyRecipientsEnhanced is X.5.3 "too many recipients": a message
	// with more recipients than a limit's burst can never pass.
	TooManyRecipientsEnhanced = "5.5.3"
	// TooBigEnhanced is X.3.4 "message too big for system": a message
	// larger than a bytes limit's burst can never pass.
	TooBigEnhanced = "5.3.4"

	RateLimitNewText           = "Rate limit for new clients exceeded ({rate}), try again in {wait}"
	RateLimitAuthenticatedText = "Throttled: sending quota for {user} exceeded ({rate}), try again in {wait}"
	RateLimitText              = "Rate limit exceeded ({rate}), try again in {wait}"
	RateLimitRejectText        = "Rate limit exceeded ({rate})"
	// HOLD reasons: Postfix logs them with the held message.
	RateLimitHoldUserText   = "sending quota for {user} exceeded ({rate}), held for review by limit {name}"
	RateLimitHoldClientText = "rate limit {name} exceeded by {key} ({rate}), held for review"
	// Costs above the burst: permanent, because waiting cannot help.
	RateLimitNeverBytesText = "Message of {cost} bytes is larger than the sending limit allows at once ({burst} bytes per {rate}); it can never pass"
	RateLimitNeverRcptsText = "Message has {cost} recipients, more than the sending limit allows at once ({burst} per {rate}); it can never pass, send it in smaller parts"
	RateLimitNeverText      = "Request costs {cost}, more than the limit allows at once ({burst} per {rate}); it can never pass"
)
