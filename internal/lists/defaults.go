package lists

import (
	_ "embed"
	"strings"
	"sync"
)

// The shipped lists. They are embedded rather than installed as files so
// that a package upgrade cannot leave a stale or missing copy behind; the
// administrator's own files are merged on top (MergeClients).
var (
	//go:embed default_clients.txt
	defaultClientsText string
	//go:embed default_recipients.txt
	defaultRecipientsText string
)

// Source names of the defaults, as they appear in Entry.Source and logs.
const (
	DefaultClientsSource    = "default_clients.txt"
	DefaultRecipientsSource = "default_recipients.txt"
)

var (
	defaultClients = sync.OnceValue(func() *ClientList {
		l, err := ParseClientList(DefaultClientsSource, strings.NewReader(defaultClientsText))
		if err != nil {
			// The file is compiled in and covered by tests.
			panic("lists: shipped " + err.Error())
		}
		return l
	})
	defaultRecipients = sync.OnceValue(func() *AddressList {
		l, err := ParseAddressList(DefaultRecipientsSource, strings.NewReader(defaultRecipientsText))
		if err != nil {
			panic("lists: shipped " + err.Error())
		}
		return l
	})
)

// DefaultClients is the shipped client exemption list (default_clients.txt):
// large pool senders plus everything postgrey ships. The value is shared;
// it is immutable like every list.
func DefaultClients() *ClientList { return defaultClients() }

// DefaultRecipients is the shipped recipient exemption list:
// postmaster@ and abuse@.
func DefaultRecipients() *AddressList { return defaultRecipients() }
