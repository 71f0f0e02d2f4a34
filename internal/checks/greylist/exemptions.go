package greylist

import (
	"fmt"

	"github.com/tempfail/tempfail/internal/lists"
)

// LoadExemptions builds the exemption lists from the config: the shipped
// default client list (when default_clients is on), inline entries and
// files. It is called at start and on every SIGHUP; a file that fails to
// parse fails the reload and the old lists stay in force.
func LoadExemptions(c Config) (Exemptions, error) {
	var clients []*lists.ClientList
	if c.DefaultClients {
		clients = append(clients, lists.DefaultClients())
	}
	inline, err := lists.NewClientList(c.Clients)
	if err != nil {
		return Exemptions{}, fmt.Errorf("greylist.clients: %w", err)
	}
	files, err := lists.LoadClientFiles(c.ClientFiles...)
	if err != nil {
		return Exemptions{}, fmt.Errorf("greylist.client_files: %w", err)
	}
	clients = append(clients, inline, files)

	senders, err := addresses("senders", c.Senders, c.SenderFiles)
	if err != nil {
		return Exemptions{}, err
	}
	rcpts, err := addresses("recipients", c.Recipients, c.RecipientFiles)
	if err != nil {
		return Exemptions{}, err
	}
	return Exemptions{
		Clients:    lists.MergeClients(clients...),
		Senders:    senders,
		Recipients: rcpts,
	}, nil
}

func addresses(key string, inline, paths []string) (*lists.AddressList, error) {
	in, err := lists.NewAddressList(inline)
	if err != nil {
		return nil, fmt.Errorf("greylist.%s: %w", key, err)
	}
	files, err := lists.LoadAddressFiles(paths...)
	if err != nil {
		return nil, fmt.Errorf("greylist.%s_files: %w", key[:len(key)-1], err)
	}
	return lists.MergeAddresses(in, files), nil
}
