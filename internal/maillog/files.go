package maillog

import (
	"path/filepath"
	"sort"
	"strings"
)

// SortRotated orders log file names so that each rotated set is read
// oldest first, as logrotate and newsyslog name them:
//
//	mail.log.3.gz mail.log.2.gz mail.log.1 mail.log        (numbered: higher is older)
//	mail.log-20261125.gz mail.log-20261126 mail.log         (dateext: earlier is older)
//
// Dated files come before numbered ones of the same set, the live file
// last. Sets are kept in the order their first member appears in paths.
// Names that fit no pattern are their own set.
func SortRotated(paths []string) []string {
	type item struct {
		path  string
		set   int
		class int // 0 dated, 1 numbered, 2 live
		num   int
		date  string
		order int
	}
	sets := map[string]int{}
	items := make([]item, 0, len(paths))
	for i, p := range paths {
		base, class, num, date := rotation(p)
		id, ok := sets[base]
		if !ok {
			id = len(sets)
			sets[base] = id
		}
		items = append(items, item{p, id, class, num, date, i})
	}
	sort.SliceStable(items, func(a, b int) bool {
		x, y := items[a], items[b]
		if x.set != y.set {
			return x.set < y.set
		}
		if x.class != y.class {
			return x.class < y.class
		}
		switch x.class {
		case 0:
			return x.date < y.date
		case 1:
			return x.num > y.num
		}
		return x.order < y.order
	})
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.path
	}
	return out
}

// rotation splits a file name into its set name and position.
func rotation(p string) (base string, class, num int, date string) {
	dir, name := filepath.Split(p)
	for _, ext := range []string{".gz", ".bz2", ".xz", ".zst"} {
		name = strings.TrimSuffix(name, ext)
	}
	if k := strings.LastIndexByte(name, '.'); k > 0 {
		if n, ok := atoi(name[k+1:]); ok && len(name)-k-1 <= 4 {
			return dir + name[:k], 1, n, ""
		}
	}
	if k := strings.LastIndexByte(name, '-'); k > 0 {
		d := name[k+1:]
		if _, ok := atoiFixed(d); ok && len(d) >= 8 && len(d) <= 14 {
			return dir + name[:k], 0, 0, d
		}
	}
	return dir + name, 2, 0, ""
}
