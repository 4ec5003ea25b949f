package stac

import (
	"encoding/json"
	"errors"
	"strings"
)

// member is one member of a JSON object: its key (unescaped only when it
// has no escapes, which every STAC member name satisfies) and the raw bytes
// of its value.
type member struct {
	key   string
	value []byte
}

var errNotObject = errors.New("not a JSON object")

// members lists the members of a JSON object. It does one pass and
// allocates only the result; values alias obj. Keys containing escapes are
// returned raw (with their backslashes), so they never equal a member name
// tessera looks for. Input that is not a complete object (truncated, or
// with a missing ':' or ',') is an error; deeper syntax is trusted, as the
// callers validate documents once with validJSON.
func members(obj []byte, dst []member) ([]member, error) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, errNotObject
	}
	i++
	for first := true; ; first = false {
		i = skipSpace(obj, i)
		if i < len(obj) && obj[i] == '}' && first {
			return dst, nil
		}
		if i >= len(obj) || obj[i] != '"' {
			return nil, errNotObject
		}
		end := skipString(obj, i)
		if end < 0 {
			return nil, errNotObject
		}
		key := string(obj[i+1 : end-1])
		i = skipSpace(obj, end)
		if i >= len(obj) || obj[i] != ':' {
			return nil, errNotObject
		}
		i = skipSpace(obj, i+1)
		vend := skipValue(obj, i)
		if vend < 0 || vend == i {
			return nil, errNotObject
		}
		dst = append(dst, member{key: key, value: obj[i:vend]})
		i = skipSpace(obj, vend)
		switch {
		case i < len(obj) && obj[i] == ',':
			i++
		case i < len(obj) && obj[i] == '}':
			return dst, nil
		default:
			return nil, errNotObject
		}
	}
}

// EachMember calls fn with the key and raw value of each member of a JSON
// object, in order (so the last of a repeated key comes last, the one
// encoding/json keeps). Keys with escapes are decoded. It reports whether
// obj was a complete object; deeper syntax is not checked.
func EachMember(obj []byte, fn func(key string, value []byte)) bool {
	ms, err := members(obj, make([]member, 0, 16))
	if err != nil {
		return false
	}
	for _, m := range ms {
		key := m.key
		if strings.IndexByte(key, '\\') >= 0 && json.Unmarshal([]byte(`"`+key+`"`), &key) != nil {
			continue
		}
		fn(key, m.value)
	}
	return true
}

// Member returns the raw value of a top-level member of a JSON object.
func Member(obj []byte, key string) ([]byte, bool) {
	ms, err := members(obj, make([]member, 0, 16))
	if err != nil {
		return nil, false
	}
	v := lookup(ms, key)
	return v, v != nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the closing quote of the string that
// starts at b[i] == '"', or -1 when it is not terminated.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the value that starts at b[i], or -1
// when it is not terminated.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				j := skipString(b, i)
				if j < 0 {
					return -1
				}
				i = j - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return -1
	default: // number, true, false, null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\t' && b[i] != '\r' {
			i++
		}
		return i
	}
}
