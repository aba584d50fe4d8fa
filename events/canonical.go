package events

import (
	"bytes"
	"slices"
	"unicode/utf8"
)

// fastCanonical is Canonical without encoding/json for the JSON it meets
// every day: it copies numbers as written and strings as they are, drops
// insignificant white space and sorts object members by key, without a
// decode into maps and an encode by reflection (a third of the writer's
// time per event was that, issue 10). It gives up (false) on anything
// whose canonical form it would have to work out: a string with an escape,
// a control character, invalid UTF-8 or U+2028/U+2029, a key twice in an
// object, nesting deeper than fastMaxDepth, or anything that is not JSON.
// Canonical then takes the slow path, whose answer is the definition:
// FuzzFastCanonical holds the two to the same bytes.
func fastCanonical(b []byte) ([]byte, bool) {
	s := canonScanner{b: b}
	s.space()
	out, ok := s.value(make([]byte, 0, len(b)), 0)
	s.space()
	if !ok || s.i != len(b) {
		return nil, false
	}
	return out, true
}

const fastMaxDepth = 1000

type canonScanner struct {
	b []byte
	i int
}

func (s *canonScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *canonScanner) next(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *canonScanner) value(dst []byte, depth int) ([]byte, bool) {
	if s.i >= len(s.b) || depth > fastMaxDepth {
		return nil, false
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object(dst, depth)
	case c == '[':
		return s.array(dst, depth)
	case c == '"':
		str, ok := s.str()
		return append(dst, str...), ok
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.i
		ok := s.number()
		return append(dst, s.b[start:s.i]...), ok
	}
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
			s.i += len(lit)
			return append(dst, lit...), true
		}
	}
	return nil, false
}

// member is one "key":value of an object being written: its key (without
// quotes: a quote sorts after a space) and where it is in the output.
type member struct {
	key        []byte
	start, end int
}

func (s *canonScanner) object(dst []byte, depth int) ([]byte, bool) {
	s.i++ // {
	dst = append(dst, '{')
	s.space()
	if s.next('}') {
		return append(dst, '}'), true
	}
	var (
		buf     [16]member
		members = buf[:0]
		sorted  = true
		ok      bool
	)
	for {
		s.space()
		start := len(dst)
		key, kok := s.str()
		s.space()
		if !kok || !s.next(':') {
			return nil, false
		}
		dst = append(append(dst, key...), ':')
		s.space()
		if dst, ok = s.value(dst, depth+1); !ok {
			return nil, false
		}
		if n := len(members); n > 0 {
			switch bytes.Compare(members[n-1].key, key[1:len(key)-1]) {
			case 0:
				return nil, false // a key twice: the last one wins, Canonical knows
			case 1:
				sorted = false
			}
		}
		members = append(members, member{key[1 : len(key)-1], start, len(dst)})
		s.space()
		if s.next('}') {
			break
		}
		if !s.next(',') {
			return nil, false
		}
		dst = append(dst, ',')
	}
	if !sorted {
		return sortMembers(dst, members)
	}
	return append(dst, '}'), true
}

// sortMembers rewrites the members written at the end of dst in the order
// of their keys.
func sortMembers(dst []byte, members []member) ([]byte, bool) {
	base := members[0].start
	written := bytes.Clone(dst[base:])
	slices.SortFunc(members, func(a, b member) int { return bytes.Compare(a.key, b.key) })
	for i := 1; i < len(members); i++ {
		if bytes.Equal(members[i-1].key, members[i].key) {
			return nil, false
		}
	}
	dst = dst[:base]
	for i, m := range members {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, written[m.start-base:m.end-base]...)
	}
	return append(dst, '}'), true
}

func (s *canonScanner) array(dst []byte, depth int) ([]byte, bool) {
	s.i++ // [
	dst = append(dst, '[')
	s.space()
	if s.next(']') {
		return append(dst, ']'), true
	}
	for {
		s.space()
		var ok bool
		if dst, ok = s.value(dst, depth+1); !ok {
			return nil, false
		}
		s.space()
		if s.next(']') {
			return append(dst, ']'), true
		}
		if !s.next(',') {
			return nil, false
		}
		dst = append(dst, ',')
	}
}

// str scans a string that encoding/json writes back as it is, and returns
// it with its quotes.
func (s *canonScanner) str() ([]byte, bool) {
	if !s.next('"') {
		return nil, false
	}
	start := s.i - 1
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			return s.b[start:s.i], true
		case c == '\\' || c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.b[s.i:])
			if (r == utf8.RuneError && size == 1) || r == '\u2028' || r == '\u2029' {
				return nil, false
			}
			s.i += size
		}
	}
	return nil, false
}

// number scans a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *canonScanner) number() bool {
	s.next('-')
	switch {
	case s.next('0'):
	case s.i < len(s.b) && s.b[s.i] >= '1' && s.b[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.next('.') && !s.digits() {
		return false
	}
	if s.next('e') || s.next('E') {
		if !s.next('+') {
			s.next('-')
		}
		return s.digits()
	}
	return true
}

// digits scans one or more digits.
func (s *canonScanner) digits() bool {
	start := s.i
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
