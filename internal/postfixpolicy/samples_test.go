package postfixpolicy

import (
	"net/netip"

	"github.com/tempfail/tempfail/internal/policy"
)

// sample is a request as a real client sends it and what it must decode to.
// They feed the codec tests, the benchmarks and the fuzz seed corpus
// (TestFuzzSeedCorpus checks the corpus holds every one of them).
type sample struct {
	name string
	wire string
	want *policy.Request
}

// rcptFull is every attribute Postfix 3.8+ sends, as in SMTPD_POLICY_README's
// example (with a client_port, which the README lists without a value).
const rcptFull = "request=smtpd_access_policy\n" +
	"protocol_state=RCPT\n" +
	"protocol_name=SMTP\n" +
	"helo_name=some.domain.tld\n" +
	"queue_id=8045F2AB23\n" +
	"sender=foo@bar.tld\n" +
	"recipient=bar@foo.tld\n" +
	"recipient_count=0\n" +
	"client_address=1.2.3.4\n" +
	"client_name=another.domain.tld\n" +
	"reverse_client_name=another.domain.tld\n" +
	"instance=123.456.7\n" +
	"sasl_method=plain\n" +
	"sasl_username=you\n" +
	"sasl_sender=\n" +
	"size=12345\n" +
	"ccert_subject=solaris9.porcupine.org\n" +
	"ccert_issuer=Wietse+20Venema\n" +
	"ccert_fingerprint=C2:9D:F4:87:71:73:73:D9:18:E7:C2:F3:C1:DA:6E:04\n" +
	"encryption_protocol=TLSv1/SSLv3\n" +
	"encryption_cipher=DHE-RSA-AES256-SHA\n" +
	"encryption_keysize=256\n" +
	"etrn_domain=\n" +
	"stress=\n" +
	"ccert_pubkey_fingerprint=68:B3:29:DA:98:93:E3:40:99:C7:D8:AD:5C:B9:C9:40\n" +
	"client_port=1234\n" +
	"policy_context=submission\n" +
	"server_address=10.3.2.1\n" +
	"server_port=54321\n" +
	"compatibility_level=major.minor.patch\n" +
	"mail_version=3.8.0\n" +
	"\n"

var samples = []sample{
	{"rcpt_full", rcptFull, &policy.Request{
		Kind: "smtpd_access_policy", State: policy.StateRcpt, Protocol: "SMTP",
		HeloName: "some.domain.tld", QueueID: "8045F2AB23",
		Sender: "foo@bar.tld", Recipient: "bar@foo.tld",
		ClientAddress: "1.2.3.4", Client: netip.MustParseAddr("1.2.3.4"),
		ClientName: "another.domain.tld", ReverseClientName: "another.domain.tld",
		Instance: "123.456.7", SASLMethod: "plain", SASLUsername: "you", Size: 12345,
		CCertSubject: "solaris9.porcupine.org", CCertIssuer: "Wietse+20Venema",
		CCertFinger: "C2:9D:F4:87:71:73:73:D9:18:E7:C2:F3:C1:DA:6E:04",
		CCertPubkey: "68:B3:29:DA:98:93:E3:40:99:C7:D8:AD:5C:B9:C9:40",
		EncProtocol: "TLSv1/SSLv3", EncCipher: "DHE-RSA-AES256-SHA", EncKeysize: 256,
		ClientPort: "1234", PolicyContext: "submission",
		ServerAddress: "10.3.2.1", ServerPort: "54321",
		CompatLevel: "major.minor.patch", MailVersion: "3.8.0",
	}},
	{"connect", "request=smtpd_access_policy\n" +
		"protocol_state=CONNECT\nprotocol_name=SMTP\nhelo_name=\nqueue_id=\nsender=\n" +
		"recipient=\nrecipient_count=0\nclient_address=2001:db8::25\n" +
		"client_name=unknown\nreverse_client_name=mail.example.net\ninstance=\n" +
		"sasl_method=\nsasl_username=\nsasl_sender=\nsize=0\nccert_subject=\n" +
		"ccert_issuer=\nccert_fingerprint=\nccert_pubkey_fingerprint=\n" +
		"encryption_protocol=\nencryption_cipher=\nencryption_keysize=0\n" +
		"etrn_domain=\nstress=\nclient_port=49152\npolicy_context=\n" +
		"server_address=2001:db8::1\nserver_port=25\ncompatibility_level=3.6\n" +
		"mail_version=3.10.5\n\n",
		&policy.Request{
			Kind: "smtpd_access_policy", State: policy.StateConnect, Protocol: "SMTP",
			ClientAddress: "2001:db8::25", Client: netip.MustParseAddr("2001:db8::25"),
			ClientName: "unknown", ReverseClientName: "mail.example.net",
			ClientPort: "49152", ServerAddress: "2001:db8::1", ServerPort: "25",
			CompatLevel: "3.6", MailVersion: "3.10.5",
		}},
	{"data", "request=smtpd_access_policy\n" +
		"protocol_state=DATA\nprotocol_name=ESMTP\nhelo_name=mx.example.com\n" +
		"queue_id=4XyZ1k2v3Nz9q\nsender=bounce+abc=example.org@lists.example.com\n" +
		"recipient=\nrecipient_count=3\nclient_address=192.0.2.10\n" +
		"client_name=mx.example.com\nreverse_client_name=mx.example.com\n" +
		"instance=1a2b.6650f3c1.8d2e4.0\nsasl_method=\nsasl_username=\nsasl_sender=\n" +
		"size=48213\nccert_subject=\nccert_issuer=\nccert_fingerprint=\n" +
		"ccert_pubkey_fingerprint=\nencryption_protocol=\nencryption_cipher=\n" +
		"encryption_keysize=0\netrn_domain=\nstress=\nclient_port=61000\n" +
		"policy_context=\nserver_address=192.0.2.1\nserver_port=25\n" +
		"compatibility_level=3.6\nmail_version=3.9.1\n\n",
		&policy.Request{
			Kind: "smtpd_access_policy", State: policy.StateData, Protocol: "ESMTP",
			HeloName: "mx.example.com", QueueID: "4XyZ1k2v3Nz9q",
			Sender: "bounce+abc=example.org@lists.example.com", RcptCount: 3,
			ClientAddress: "192.0.2.10", Client: netip.MustParseAddr("192.0.2.10"),
			ClientName: "mx.example.com", ReverseClientName: "mx.example.com",
			Instance: "1a2b.6650f3c1.8d2e4.0", Size: 48213, ClientPort: "61000",
			ServerAddress: "192.0.2.1", ServerPort: "25",
			CompatLevel: "3.6", MailVersion: "3.9.1",
		}},
	{"end_of_message", "request=smtpd_access_policy\n" +
		"protocol_state=END-OF-MESSAGE\nprotocol_name=ESMTP\nhelo_name=mx.example.com\n" +
		"queue_id=4XyZ1k2v3Nz9q\nsender=alice@example.com\nrecipient=bob@example.org\n" +
		"recipient_count=1\nclient_address=192.0.2.10\nclient_name=mx.example.com\n" +
		"reverse_client_name=mx.example.com\ninstance=1a2b.6650f3c1.8d2e4.0\n" +
		"sasl_method=\nsasl_username=\nsasl_sender=\nsize=1048576\n" +
		"encryption_keysize=0\nstress=yes\n\n",
		&policy.Request{
			Kind: "smtpd_access_policy", State: policy.StateEndOfMessage, Protocol: "ESMTP",
			HeloName: "mx.example.com", QueueID: "4XyZ1k2v3Nz9q",
			Sender: "alice@example.com", Recipient: "bob@example.org", RcptCount: 1,
			ClientAddress: "192.0.2.10", Client: netip.MustParseAddr("192.0.2.10"),
			ClientName: "mx.example.com", ReverseClientName: "mx.example.com",
			Instance: "1a2b.6650f3c1.8d2e4.0", Size: 1048576, Stress: "yes",
		}},
	{"rcpt_tls", "request=smtpd_access_policy\n" +
		"protocol_state=RCPT\nprotocol_name=ESMTP\nhelo_name=smtp.partner.example\n" +
		"queue_id=\nsender=orders@partner.example\nrecipient=sales@example.com\n" +
		"recipient_count=0\nclient_address=198.51.100.7\n" +
		"client_name=smtp.partner.example\nreverse_client_name=smtp.partner.example\n" +
		"instance=7f1.6650f3c2.a1b2.0\nsize=2048\n" +
		"ccert_subject=CN=smtp.partner.example,O=Partner+20Inc\n" +
		"ccert_issuer=R11\n" +
		"ccert_fingerprint=3A:7F:22:09:BC:41:9E:0D:5B:88:61:F0:2C:D4:77:1E\n" +
		"ccert_pubkey_fingerprint=9B:02:DE:44:10:7A:C3:58:EE:21:6F:93:0A:B7:4C:D1\n" +
		"encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_256_GCM_SHA384\n" +
		"encryption_keysize=256\nclient_port=40312\nserver_address=203.0.113.25\n" +
		"server_port=25\ncompatibility_level=3.6\nmail_version=3.8.6\n\n",
		&policy.Request{
			Kind: "smtpd_access_policy", State: policy.StateRcpt, Protocol: "ESMTP",
			HeloName: "smtp.partner.example", Sender: "orders@partner.example",
			Recipient: "sales@example.com", ClientAddress: "198.51.100.7",
			Client: netip.MustParseAddr("198.51.100.7"), ClientName: "smtp.partner.example",
			ReverseClientName: "smtp.partner.example", Instance: "7f1.6650f3c2.a1b2.0", Size: 2048,
			CCertSubject: "CN=smtp.partner.example,O=Partner+20Inc", CCertIssuer: "R11",
			CCertFinger: "3A:7F:22:09:BC:41:9E:0D:5B:88:61:F0:2C:D4:77:1E",
			CCertPubkey: "9B:02:DE:44:10:7A:C3:58:EE:21:6F:93:0A:B7:4C:D1",
			EncProtocol: "TLSv1.3", EncCipher: "TLS_AES_256_GCM_SHA384", EncKeysize: 256,
			ClientPort: "40312", ServerAddress: "203.0.113.25", ServerPort: "25",
			CompatLevel: "3.6", MailVersion: "3.8.6",
		}},
	{"rcpt_sasl", "request=smtpd_access_policy\n" +
		"protocol_state=RCPT\nprotocol_name=ESMTP\nhelo_name=[192.168.1.23]\n" +
		"queue_id=\nsender=carol@example.com\nrecipient=dave@example.net\n" +
		"recipient_count=0\nclient_address=192.168.1.23\nclient_name=unknown\n" +
		"reverse_client_name=unknown\ninstance=2c3.6650f3c3.b2c3.0\n" +
		"sasl_method=PLAIN\nsasl_username=carol@example.com\nsasl_sender=\nsize=0\n" +
		"encryption_protocol=TLSv1.3\nencryption_cipher=TLS_AES_128_GCM_SHA256\n" +
		"encryption_keysize=128\nclient_port=55012\npolicy_context=submission\n" +
		"server_address=192.168.1.1\nserver_port=587\n\n",
		&policy.Request{
			Kind: "smtpd_access_policy", State: policy.StateRcpt, Protocol: "ESMTP",
			HeloName: "[192.168.1.23]", Sender: "carol@example.com", Recipient: "dave@example.net",
			ClientAddress: "192.168.1.23", Client: netip.MustParseAddr("192.168.1.23"),
			ClientName: "unknown", ReverseClientName: "unknown", Instance: "2c3.6650f3c3.b2c3.0",
			SASLMethod: "PLAIN", SASLUsername: "carol@example.com",
			EncProtocol: "TLSv1.3", EncCipher: "TLS_AES_128_GCM_SHA256", EncKeysize: 128,
			ClientPort: "55012", PolicyContext: "submission",
			ServerAddress: "192.168.1.1", ServerPort: "587",
		}},
	// Exim's ${readsocket} with the request written by hand in the ACL: no
	// empty line at the end, not even a final newline; Exim then shuts
	// down its write side.
	{"exim_readsocket", "request=smtpd_access_policy\nprotocol_state=RCPT\n" +
		"protocol_name=ESMTP\nclient_address=203.0.113.9\nclient_name=unknown\n" +
		"helo_name=exim.example\nsender=erin@example.com\nrecipient=frank@example.org\n" +
		"instance=1tXyZ9-000Abc-0F",
		&policy.Request{
			Kind: "smtpd_access_policy", State: policy.StateRcpt, Protocol: "ESMTP",
			ClientAddress: "203.0.113.9", Client: netip.MustParseAddr("203.0.113.9"),
			ClientName: "unknown", HeloName: "exim.example", Sender: "erin@example.com",
			Recipient: "frank@example.org", Instance: "1tXyZ9-000Abc-0F",
		}},
}

// malformed are requests every one of which must be refused; they seed the
// fuzz corpus next to the good samples.
var malformed = []struct{ name, wire string }{
	{"no_equals", "request=smtpd_access_policy\nGET / HTTP/1.1\n\n"},
	{"nul", "request=smtpd_access_policy\nsender=a\x00b@example.com\n\n"},
	{"binary_name", "\x16\x03\x01\x02\x00=\x01\x00\n\n"},
	{"missing_request", "protocol_state=RCPT\nsender=a@example.com\n\n"},
	{"unknown_request", "request=junk_policy\nprotocol_state=RCPT\n\n"},
	{"truncated", "protocol_state=RCPT\nsender=a@example.com\n"},
	{"bad_name", "protocol state=RCPT\n\n"},
}
