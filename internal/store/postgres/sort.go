package postgres

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/tessera-geo/tessera/internal/search"
)

// keyKind is the Go type of a sort key's values.
type keyKind uint8

const (
	kTime  keyKind = iota // timestamptz; µs in tokens
	kText                 // text COLLATE "C"
	kFloat                // float8
	kInt                  // integer (a type rank)
)

// sortKey is one ORDER BY term. Every term is NOT NULL, so rows compare as
// plain tuples and keyset conditions need no NULL cases.
type sortKey struct {
	expr string
	desc bool
	kind keyKind
	sig  string // the key's name in the order's signature
}

// sortKeys turns the requested order into SQL terms, as the SQLite store
// orders: a property sorts by a type rank (missing or null 0, number or
// boolean 1 — booleans as 1 and 0 —, string, array or object 2: SQLite's
// NULL < numbers < text), then by its number, then by its text (strings
// byte-wise; arrays and objects by their JSON text). That puts missing
// values first ascending and last descending. Ties are broken by id, then
// collection, in the direction of the last term.
func sortKeys(sb []search.SortField) ([]sortKey, error) {
	if len(sb) == 0 {
		sb = search.DefaultSort
	}
	keys := make([]sortKey, 0, len(sb)+2)
	for _, f := range sb {
		switch f.Field {
		case "id", "collection":
			keys = append(keys, sortKey{expr: "i." + f.Field, desc: f.Desc, kind: kText, sig: "i." + f.Field})
		case "datetime", "start_datetime":
			keys = append(keys, sortKey{expr: "i.start_datetime", desc: f.Desc, kind: kTime, sig: "i.start_datetime"})
		case "end_datetime":
			keys = append(keys, sortKey{expr: "i.end_datetime", desc: f.Desc, kind: kTime, sig: "i.end_datetime"})
		default:
			if !safeKey(f.Field) {
				return nil, &search.InvalidParamError{Param: "sortby", Reason: fmt.Sprintf("field %q cannot be sorted by", f.Field)}
			}
			ref := "(i.content->'properties'->'" + f.Field + "')"
			t := "jsonb_typeof(" + ref + ")"
			sig := "pg:" + f.Field
			keys = append(keys,
				sortKey{expr: "(CASE " + t + " WHEN 'number' THEN 1 WHEN 'boolean' THEN 1 WHEN 'string' THEN 2 WHEN 'array' THEN 2 WHEN 'object' THEN 2 ELSE 0 END)",
					desc: f.Desc, kind: kInt, sig: sig + "#rank"},
				sortKey{expr: "(CASE " + t + " WHEN 'number' THEN (" + ref + ")::float8 WHEN 'boolean' THEN (CASE WHEN (" + ref + ")::boolean THEN 1 ELSE 0 END) ELSE 0 END)",
					desc: f.Desc, kind: kFloat, sig: sig + "#number"},
				sortKey{expr: "((CASE " + t + " WHEN 'string' THEN " + ref + " #>> '{}' WHEN 'array' THEN " + ref + "::text WHEN 'object' THEN " + ref + "::text ELSE '' END) COLLATE \"C\")",
					desc: f.Desc, kind: kText, sig: sig + "#text"})
		}
	}
	last := keys[len(keys)-1].desc
	for _, tb := range []string{"i.id", "i.collection"} {
		if !hasExpr(keys, tb) {
			keys = append(keys, sortKey{expr: tb, desc: last, kind: kText, sig: tb})
		}
	}
	return keys, nil
}

// safeKey reports whether a property name can be placed in a SQL string
// literal as is.
func safeKey(k string) bool {
	if k == "" || len(k) > 256 || strings.ContainsAny(k, "'\"\\") {
		return false
	}
	return !strings.ContainsFunc(k, func(r rune) bool { return unicode.IsControl(r) || r == unicode.ReplacementChar })
}

func hasExpr(keys []sortKey, expr string) bool {
	for _, k := range keys {
		if k.expr == expr {
			return true
		}
	}
	return false
}

func orderBy(keys []sortKey) string {
	terms := make([]string, len(keys))
	for i, k := range keys {
		terms[i] = k.expr
		if k.desc {
			terms[i] += " DESC"
		}
	}
	return " ORDER BY " + strings.Join(terms, ", ")
}

// after is the condition for rows after the key values vals in the order
// keys.
func after(keys []sortKey, vals []any, a *args) string {
	sameDir := true
	for _, k := range keys {
		sameDir = sameDir && k.desc == keys[0].desc
	}
	if sameDir {
		// One row-value comparison: an index range seek.
		cols := make([]string, len(keys))
		phs := make([]string, len(keys))
		for i, k := range keys {
			cols[i], phs[i] = k.expr, a.add(vals[i])
		}
		op := ">"
		if keys[0].desc {
			op = "<"
		}
		return "(" + strings.Join(cols, ", ") + ") " + op + " (" + strings.Join(phs, ", ") + ")"
	}
	// k1 beyond v1, or equal and the rest beyond; bounded on the first key
	// for an index.
	var build func(i int) string
	build = func(i int) string {
		k := keys[i]
		op := ">"
		if k.desc {
			op = "<"
		}
		p := a.add(vals[i])
		strictly := k.expr + " " + op + " " + p
		if i == len(keys)-1 {
			return strictly
		}
		return "(" + strictly + " OR (" + k.expr + " = " + p + " AND " + build(i+1) + "))"
	}
	op := ">="
	if keys[0].desc {
		op = "<="
	}
	return "(" + keys[0].expr + " " + op + " " + a.add(vals[0]) + " AND " + build(0) + ")"
}

// signature identifies an order, so that a token cannot continue a search
// sorted differently. Column keys are named as the SQLite store names them,
// so tokens of column orders (the default among them) carry over.
func signature(keys []sortKey) string {
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s|%v;", k.sig, k.desc)
	}
	return hex.EncodeToString(h.Sum(nil)[:4])
}

// defaultSig is the signature of the default order.
var defaultSig = func() string {
	keys, _ := sortKeys(nil)
	return signature(keys)
}()

// encodeCursor is the token continuing after a row with key values vals:
// base64url of [2, signature, values], times as unix µs (the SQLite store's
// layout).
func encodeCursor(keys []sortKey, vals []any) string {
	out := make([]any, len(vals))
	for i, v := range vals {
		if t, ok := v.(time.Time); ok {
			out[i] = t.UnixMicro()
		} else {
			out[i] = v
		}
	}
	b, _ := json.Marshal([]any{2, signature(keys), out})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a token for the order keys. Tokens of the first
// layout ([1, start µs, id, collection]) continue the default order.
func decodeCursor(s string, keys []sortKey) ([]any, error) {
	bad := &search.InvalidParamError{Param: "token", Reason: "not a token this server issued for this search (use the next link of a previous page)"}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, bad
	}
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	var v []any
	if d.Decode(&v) != nil || len(v) == 0 {
		return nil, bad
	}
	sig := signature(keys)
	var raw []any
	switch v[0] {
	case json.Number("1"):
		if len(v) != 4 || sig != defaultSig {
			return nil, bad
		}
		raw = v[1:]
	case json.Number("2"):
		if len(v) != 3 || v[1] != sig {
			return nil, bad
		}
		raw, _ = v[2].([]any)
	default:
		return nil, bad
	}
	if len(raw) != len(keys) {
		return nil, bad
	}
	vals := make([]any, len(keys))
	for i, k := range keys {
		var ok bool
		switch k.kind {
		case kText:
			vals[i], ok = raw[i].(string)
		case kTime:
			var n json.Number
			if n, ok = raw[i].(json.Number); ok {
				us, err := n.Int64()
				ok = err == nil
				vals[i] = time.UnixMicro(us).UTC()
			}
		case kFloat:
			var n json.Number
			if n, ok = raw[i].(json.Number); ok {
				f, err := n.Float64()
				ok = err == nil
				vals[i] = f
			}
		case kInt:
			var n json.Number
			if n, ok = raw[i].(json.Number); ok {
				x, err := n.Int64()
				ok = err == nil
				vals[i] = x
			}
		}
		if !ok {
			return nil, bad
		}
	}
	return vals, nil
}

// scanDest returns a destination for a key's value.
func scanDest(k sortKey) any {
	switch k.kind {
	case kTime:
		return new(time.Time)
	case kText:
		return new(string)
	case kFloat:
		return new(float64)
	default:
		return new(int64)
	}
}

// deref reads a scanned key value.
func deref(p any) any {
	switch x := p.(type) {
	case *time.Time:
		return x.UTC()
	case *string:
		return *x
	case *float64:
		return *x
	case *int64:
		return *x
	}
	return nil
}
