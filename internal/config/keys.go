package config

import (
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// keyLine finds the line of an undecoded key. BurntSushi/toml reports
// undecoded keys without positions, so we walk the text: track the current
// [table] header and find "name =" inside it.
func keyLine(text []byte, k toml.Key) int {
	if len(k) == 0 {
		return 0
	}
	table := strings.Join(k[:len(k)-1], ".")
	name := k[len(k)-1]
	cur := ""
	for i, line := range strings.Split(string(text), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "[") {
			h := strings.Trim(l, "[] \t")
			if j := strings.IndexByte(h, '#'); j >= 0 {
				h = strings.TrimSpace(strings.Trim(h[:j], "[] \t"))
			}
			cur = h
			if cur == strings.Join(k, ".") {
				return i + 1 // an unknown table
			}
			continue
		}
		if cur != table {
			continue
		}
		if eq := strings.IndexByte(l, '='); eq > 0 {
			if strings.Trim(strings.TrimSpace(l[:eq]), `"'`) == name {
				return i + 1
			}
		}
	}
	return 0
}

// suggest proposes the known key closest to an unknown one.
func suggest(k toml.Key) string {
	var t reflect.Type = reflect.TypeOf(Config{})
	for _, part := range k[:len(k)-1] {
		f, ok := field(t, part)
		if ok && f.Kind() == reflect.Slice { // [[array.of.tables]]
			f = f.Elem()
		}
		if !ok || f.Kind() != reflect.Struct {
			return ""
		}
		t = f
	}
	best, bestD := "", 3
	name := k[len(k)-1]
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("toml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		if d := distance(name, tag); d < bestD {
			best, bestD = tag, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean \"" + best + "\"?)"
}

func field(t reflect.Type, tag string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		if strings.Split(t.Field(i).Tag.Get("toml"), ",")[0] == tag {
			return t.Field(i).Type, true
		}
	}
	return nil, false
}

// distance is the Levenshtein distance, for typo suggestions.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// limitLine finds the line of limit number index (0-based) of
// [[ratelimit.limit]], and within it the line of key when key is not
// empty (the header's line when the key is absent, e.g. a missing rate).
// 0 when the file does not spell the limits as [[ratelimit.limit]]
// tables (inline arrays).
func limitLine(text []byte, index int, key string) int {
	n, header := -1, 0
	for i, line := range strings.Split(string(text), "\n") {
		l := strings.TrimSpace(line)
		if strings.HasPrefix(l, "[") {
			if n == index {
				break // the next table: key not found in ours
			}
			h := l
			if j := strings.IndexByte(h, '#'); j >= 0 {
				h = strings.TrimSpace(h[:j])
			}
			if strings.HasPrefix(h, "[[") && strings.Join(strings.Fields(strings.Trim(h, "[]")), "") == "ratelimit.limit" {
				n++
				if n == index {
					header = i + 1
				}
			}
			continue
		}
		if n != index || key == "" {
			continue
		}
		if eq := strings.IndexByte(l, '='); eq > 0 {
			if strings.Trim(strings.TrimSpace(l[:eq]), `"'`) == key {
				return i + 1
			}
		}
	}
	return header
}

// entryLine finds the line of a list entry (a quoted string) of key in
// [table], for errors about one element of an array that may span lines.
// 0 when not found.
func entryLine(text []byte, table, key, entry string) int {
	cur, in := "", false
	for i, line := range strings.Split(string(text), "\n") {
		l := strings.TrimSpace(line)
		if len(l) > 1 && l[0] == '[' && (l[1] == '[' || l[1] >= 'a' && l[1] <= 'z' || l[1] >= 'A' && l[1] <= 'Z') {
			in = false
			h := strings.Trim(l, "[] \t")
			if j := strings.IndexByte(h, '#'); j >= 0 {
				h = strings.TrimSpace(strings.Trim(h[:j], "[] \t"))
			}
			cur = h
			continue
		}
		if cur != table {
			continue
		}
		if eq := strings.IndexByte(l, '='); eq > 0 && strings.Trim(strings.TrimSpace(l[:eq]), `"'`) == key {
			in = true
		} else if eq > 0 && !strings.HasPrefix(l, `"`) && !strings.HasPrefix(l, "'") {
			in = false
		}
		if in && (strings.Contains(l, `"`+entry+`"`) || strings.Contains(l, "'"+entry+"'")) {
			return i + 1
		}
	}
	return 0
}
