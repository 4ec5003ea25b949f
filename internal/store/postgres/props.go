package postgres

// properties returns the text of the top-level "properties" member of a
// JSON object, without decoding anything else: the write path sends it
// along with the document so that the server parses a few hundred bytes
// into the content column instead of the whole item. ok is false when doc
// is not an object with that member (the server then extracts it itself).
func properties(doc []byte) (v []byte, ok bool) {
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return nil, false
	}
	i++
	for {
		i = skipSpace(doc, i)
		if i >= len(doc) || doc[i] != '"' {
			return nil, false
		}
		kEnd := skipString(doc, i)
		if kEnd < 0 {
			return nil, false
		}
		key := doc[i+1 : kEnd-1]
		i = skipSpace(doc, kEnd)
		if i >= len(doc) || doc[i] != ':' {
			return nil, false
		}
		i = skipSpace(doc, i+1)
		end := skipValue(doc, i)
		if end < 0 {
			return nil, false
		}
		if string(key) == "properties" {
			return doc[i:end], true
		}
		i = skipSpace(doc, end)
		if i >= len(doc) || doc[i] != ',' {
			return nil, false
		}
		i++
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] == '"',
// or -1.
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

// skipValue returns the index after the value starting at b[i], or -1.
// Only strings and nesting are tracked: the document is known to be valid
// JSON, and a wrong guess only costs the fallback.
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
	}
	for ; i < len(b); i++ {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}
