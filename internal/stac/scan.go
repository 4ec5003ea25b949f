package stac

import "errors"

// member is one member of a JSON object: its key (unescaped only when it
// has no escapes, which every STAC member name satisfies) and the raw bytes
// of its value.
type member struct {
	key   string
	value []byte
}

var errNotObject = errors.New("not a JSON object")

// members lists the members of a JSON object that is already known to be
// valid JSON (json.Valid). It does one pass and allocates only the result;
// values alias obj. Keys containing escapes are returned raw (with their
// backslashes), so they never equal a member name tessera looks for.
func members(obj []byte, dst []member) ([]member, error) {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return nil, errNotObject
	}
	i++
	for {
		i = skipSpace(obj, i)
		if i < len(obj) && obj[i] == '}' {
			return dst, nil
		}
		if i >= len(obj) || obj[i] != '"' {
			return nil, errNotObject
		}
		end := skipString(obj, i)
		key := string(obj[i+1 : end-1])
		i = skipSpace(obj, end)
		i++ // ':'
		i = skipSpace(obj, i)
		vend := skipValue(obj, i)
		dst = append(dst, member{key: key, value: obj[i:vend]})
		i = skipSpace(obj, vend)
		if i < len(obj) && obj[i] == ',' {
			i++
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the closing quote of the string that
// starts at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	default: // number, true, false, null
		for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\n' && b[i] != '\t' && b[i] != '\r' {
			i++
		}
		return i
	}
}
