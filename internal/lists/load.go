package lists

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// LoadClientFiles parses each file and merges them in order. A missing or
// unreadable file is an error naming it: unlike postgrey, which skips a
// missing *.local file silently, a list the configuration names must
// exist, or a typo would quietly greylist everyone it was meant to exempt.
// Errors from all files are reported together.
func LoadClientFiles(paths ...string) (*ClientList, error) {
	lists := make([]*ClientList, 0, len(paths))
	var errs []error
	for _, p := range paths {
		l, err := loadFile(p, ParseClientList)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lists = append(lists, l)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return MergeClients(lists...), nil
}

// LoadAddressFiles is LoadClientFiles for recipient or sender lists.
func LoadAddressFiles(paths ...string) (*AddressList, error) {
	lists := make([]*AddressList, 0, len(paths))
	var errs []error
	for _, p := range paths {
		l, err := loadFile(p, ParseAddressList)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		lists = append(lists, l)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return MergeAddresses(lists...), nil
}

func loadFile[L any](path string, parse func(string, io.Reader) (L, error)) (L, error) {
	f, err := os.Open(path)
	if err != nil {
		var zero L
		// *PathError already reads "open PATH: reason".
		return zero, fmt.Errorf("exemption list: %w", err)
	}
	defer f.Close()
	return parse(path, f)
}
