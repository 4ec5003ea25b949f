package cql2

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tIdent          // unquoted identifier or keyword
	tQIdent         // "double-quoted identifier"
	tString         // 'character literal'
	tNumber
	tPunct // ( ) , = <> < > <= >= + - * / % ^
)

type token struct {
	kind  tokKind
	pos   int
	text  string // identifier, punctuation, string value (unescaped) or number text
	num   float64
	match int // for '(': index of the matching ')' token, or 0
}

func (t token) describe() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tString:
		return strconv.Quote("'" + t.text + "'")
	case tQIdent:
		return strconv.Quote(`"` + t.text + `"`)
	}
	return strconv.Quote(t.text)
}

func isIdentStart(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '_' || r == ':'
	}
	return r == '_' || r == ':' || unicode.IsLetter(r)
}

func isIdentPart(r rune) bool {
	return isIdentStart(r) || r == '.' || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

const maxInput = 1 << 20

// lex splits src into tokens. It returns a *SyntaxError for unterminated
// strings, malformed numbers and characters outside the grammar.
func lex(src string) ([]token, error) {
	if len(src) > maxInput {
		return nil, textErr(0, "input longer than 1 MiB")
	}
	toks := make([]token, 0, len(src)/4+1)
	i := 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '\'' || c == '"':
			start := i
			i++
			var b strings.Builder
			closed := false
			seg := i
			for i < len(src) {
				if src[i] == c {
					if i+1 < len(src) && src[i+1] == c { // doubled quote escapes itself
						b.WriteString(src[seg : i+1])
						i += 2
						seg = i
						continue
					}
					b.WriteString(src[seg:i])
					i++
					closed = true
					break
				}
				i++
			}
			if !closed {
				if c == '\'' {
					return nil, textErr(start, "unterminated string literal (strings are enclosed in single quotes; write '' for a quote inside)")
				}
				return nil, textErr(start, `unterminated quoted identifier (write "" for a double quote inside)`)
			}
			s := b.String()
			if !utf8.ValidString(s) {
				return nil, textErr(start, "string is not valid UTF-8")
			}
			k := tString
			if c == '"' {
				k = tQIdent
				if s == "" {
					return nil, textErr(start, "empty quoted identifier")
				}
			}
			toks = append(toks, token{kind: k, pos: start, text: s})
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			start := i
			for i < len(src) && src[i] >= '0' && src[i] <= '9' {
				i++
			}
			if i < len(src) && src[i] == '.' {
				i++
				for i < len(src) && src[i] >= '0' && src[i] <= '9' {
					i++
				}
			}
			if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
				j := i + 1
				if j < len(src) && (src[j] == '+' || src[j] == '-') {
					j++
				}
				if j < len(src) && src[j] >= '0' && src[j] <= '9' {
					i = j
					for i < len(src) && src[i] >= '0' && src[i] <= '9' {
						i++
					}
				}
			}
			if i < len(src) {
				if r, _ := utf8.DecodeRuneInString(src[i:]); isIdentPart(r) {
					return nil, textErr(start, "malformed number "+strconv.Quote(src[start:i+utf8.RuneLen(r)]))
				}
			}
			v, err := strconv.ParseFloat(src[start:i], 64)
			if err != nil {
				return nil, textErr(start, "number out of range: "+src[start:i])
			}
			toks = append(toks, token{kind: tNumber, pos: start, text: src[start:i], num: v})
		default:
			r, size := rune(c), 1
			if c >= utf8.RuneSelf {
				r, size = utf8.DecodeRuneInString(src[i:])
			}
			if isIdentStart(r) {
				start := i
				i += size
				for i < len(src) {
					if c := src[i]; c < utf8.RuneSelf {
						if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == '.' {
							i++
							continue
						}
						break
					}
					r, size := utf8.DecodeRuneInString(src[i:])
					if !isIdentPart(r) {
						break
					}
					i += size
				}
				toks = append(toks, token{kind: tIdent, pos: start, text: src[start:i]})
				continue
			}
			switch c {
			case '(', ')', ',', '=', '+', '-', '*', '/', '%', '^':
				toks = append(toks, token{kind: tPunct, pos: i, text: src[i : i+1]})
				i++
			case '<':
				if i+1 < len(src) && (src[i+1] == '>' || src[i+1] == '=') {
					toks = append(toks, token{kind: tPunct, pos: i, text: src[i : i+2]})
					i += 2
				} else {
					toks = append(toks, token{kind: tPunct, pos: i, text: "<"})
					i++
				}
			case '>':
				if i+1 < len(src) && src[i+1] == '=' {
					toks = append(toks, token{kind: tPunct, pos: i, text: ">="})
					i += 2
				} else {
					toks = append(toks, token{kind: tPunct, pos: i, text: ">"})
					i++
				}
			case '!':
				if i+1 < len(src) && src[i+1] == '=' {
					return nil, textErr(i, `"!=" is not CQL2; use "<>"`)
				}
				return nil, textErr(i, `unexpected character "!"`)
			default:
				if r == utf8.RuneError && size == 1 {
					return nil, textErr(i, "input is not valid UTF-8")
				}
				return nil, textErr(i, "unexpected character "+strconv.QuoteRune(r))
			}
		}
	}
	toks = append(toks, token{kind: tEOF, pos: len(src)})
	var stack []int
	for i, t := range toks {
		if t.kind != tPunct {
			continue
		}
		switch t.text {
		case "(":
			stack = append(stack, i)
		case ")":
			if len(stack) > 0 {
				toks[stack[len(stack)-1]].match = i
				stack = stack[:len(stack)-1]
			}
		}
	}
	return toks, nil
}

func textErr(pos int, msg string) *SyntaxError {
	return &SyntaxError{Encoding: "cql2-text", Pos: pos, Msg: msg}
}
