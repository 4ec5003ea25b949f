package stac

// validJSON reports whether b is one JSON value, exactly as json.Valid
// does (FuzzValidJSON compares the two): the same grammar, no check of
// UTF-8 inside strings, and the same nesting limit. It is several times
// faster than json.Valid, whose state machine calls a function per byte;
// every document written goes through it once.
func validJSON(b []byte) bool {
	v := validator{b: b}
	i := v.value(skipSpace(b, 0), 0)
	return i >= 0 && skipSpace(b, i) == len(b)
}

// objectMembers is validJSON and members in one pass for a document that
// must be an object: ok is false when b is not valid JSON or not an
// object (FuzzObjectMembers compares it with the two).
func objectMembers(b []byte, dst []member) (ms []member, ok bool) {
	v := validator{b: b, top: &dst}
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return nil, false
	}
	if i = v.value(i, 0); i < 0 || skipSpace(b, i) != len(b) {
		return nil, false
	}
	return dst, true
}

// maxDepth is encoding/json's nesting limit for arrays and objects.
const maxDepth = 10000

type validator struct {
	b []byte
	// top, when not nil, receives the members of the outermost object.
	top *[]member
}

// value checks the value that starts at b[i] and returns the index after
// it, or -1.
func (v validator) value(i, depth int) int {
	b := v.b
	if i >= len(b) {
		return -1
	}
	switch c := b[i]; {
	case c == '"':
		return v.str(i)
	case c == '{':
		return v.object(i, depth+1)
	case c == '[':
		return v.array(i, depth+1)
	case c == '-' || c >= '0' && c <= '9':
		return v.number(i)
	case c == 't':
		return v.literal(i, "true")
	case c == 'f':
		return v.literal(i, "false")
	case c == 'n':
		return v.literal(i, "null")
	}
	return -1
}

func (v validator) object(i, depth int) int { return v.elements(i, depth, '}', v.member) }

func (v validator) array(i, depth int) int { return v.elements(i, depth, ']', v.value) }

// member checks one object member, "name": value, at b[i].
func (v validator) member(i, depth int) int {
	b := v.b
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	key := i
	if i = v.str(i); i < 0 {
		return -1
	}
	kend := i
	if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
		return -1
	}
	start := skipSpace(b, i+1)
	end := v.value(start, depth)
	if depth == 1 && v.top != nil && end >= 0 {
		*v.top = append(*v.top, member{key: string(b[key+1 : kend-1]), value: b[start:end]})
	}
	return end
}

// elements checks the comma-separated elements of the array or object
// whose opening bracket is b[i], each checked by elem, up to close.
func (v validator) elements(i, depth int, close byte, elem func(i, depth int) int) int {
	if depth > maxDepth {
		return -1
	}
	b := v.b
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == close {
		return i + 1
	}
	for {
		if i = elem(i, depth); i < 0 {
			return -1
		}
		if i = skipSpace(b, i); i >= len(b) {
			return -1
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case close:
			return i + 1
		default:
			return -1
		}
	}
}

// str checks the string that starts at b[i] == '"'.
func (v validator) str(i int) int {
	b := v.b
	for i++; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c < 0x20:
			return -1
		case c == '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return -1
				}
				for _, h := range b[i+1 : i+5] {
					if !(h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F') {
						return -1
					}
				}
				i += 4
			default:
				return -1
			}
		}
	}
	return -1
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? at b[i].
func (v validator) number(i int) int {
	b := v.b
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

func (v validator) literal(i int, lit string) int {
	if len(v.b)-i < len(lit) || string(v.b[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}
