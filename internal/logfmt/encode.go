package logfmt

import (
	"log/slog"
	"math"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// begin writes the built-in fields: time, level, msg.
func (h *Handler) begin(b []byte, r slog.Record) []byte {
	if h.format == JSON {
		b = append(b, '{')
		if !r.Time.IsZero() {
			b = append(b, `"time":"`...)
			b = appendTime(b, r.Time, true)
			b = append(b, `",`...)
		}
		b = append(b, `"level":`...)
		b = appendJSONString(b, r.Level.String())
		b = append(b, `,"msg":`...)
		return appendJSONString(b, r.Message)
	}
	if !r.Time.IsZero() {
		// slog.TextHandler's time: RFC 3339 with milliseconds.
		b = append(b, "time="...)
		b = appendTime(b, r.Time, false)
		b = append(b, ' ')
	}
	b = append(b, "level="...)
	b = append(b, r.Level.String()...)
	b = append(b, " msg="...)
	return appendTextString(b, r.Message)
}

func (h *Handler) end(b []byte) []byte {
	if h.format == JSON {
		b = append(b, '}')
	}
	return append(b, '\n')
}

// appendAttr encodes one attribute with its leading separator. It reports
// false for what only the standard handler encodes.
func (h *Handler) appendAttr(b []byte, a slog.Attr) ([]byte, bool) {
	v := a.Value
	if v.Kind() == slog.KindLogValuer || v.Kind() == slog.KindGroup {
		return b, false
	}
	if a.Key == "" {
		return b, false // slog gives empty keys special meaning
	}
	if h.format == JSON {
		b = append(b, ',')
		b = appendJSONString(b, a.Key)
		b = append(b, ':')
	} else {
		b = append(b, ' ')
		b = appendTextString(b, a.Key)
		b = append(b, '=')
	}
	switch v.Kind() {
	case slog.KindString:
		return h.appendString(b, v.String()), true
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10), true
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10), true
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool()), true
	case slog.KindFloat64:
		f := v.Float64()
		if h.format == JSON && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return b, false
		}
		return strconv.AppendFloat(b, f, 'g', -1, 64), true
	case slog.KindDuration:
		if h.format == JSON {
			return strconv.AppendInt(b, int64(v.Duration()), 10), true
		}
		return h.appendString(b, v.Duration().String()), true
	case slog.KindTime:
		if h.format == JSON {
			b = append(b, '"')
			b = v.Time().AppendFormat(b, time.RFC3339Nano)
			return append(b, '"'), true
		}
		return v.Time().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00"), true
	case slog.KindAny:
		if err, ok := v.Any().(error); ok && err != nil {
			return h.appendString(b, err.Error()), true
		}
	}
	return b, false
}

func (h *Handler) appendString(b []byte, s string) []byte {
	if h.format == JSON {
		return appendJSONString(b, s)
	}
	return appendTextString(b, s)
}

// appendTextString quotes s exactly when slog.TextHandler would: empty,
// or containing a space, '=', '"', a control character or invalid UTF-8.
func appendTextString(b []byte, s string) []byte {
	if needsQuoting(s) {
		return appendQuoted(b, s)
	}
	return append(b, s...)
}

// appendQuoted is strconv.AppendQuote with a fast path for the printable
// ASCII that nearly every log value is made of.
func appendQuoted(b []byte, s string) []byte {
	i := 0
	for i < len(s) && s[i] >= ' ' && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' {
		i++
	}
	b = append(b, '"')
	b = append(b, s[:i]...)
	if i == len(s) {
		return append(b, '"')
	}
	n := len(b)
	b = strconv.AppendQuote(b, s[i:])
	return append(b[:n], b[n+1:]...) // drop the second opening quote
}

func needsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' || c == 0x7f {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

const hexDigits = "0123456789abcdef"

// appendJSONString writes s as a JSON string (RFC 8259 section 7);
// invalid UTF-8 becomes U+FFFD, and U+2028/U+2029 are escaped as
// encoding/json does, so a line is safe to embed in JavaScript too.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
