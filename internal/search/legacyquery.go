package search

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/tessera-geo/tessera/internal/cql2"
)

// ParseQuery translates the legacy Query extension object
// ({"prop": {"op": value, ...}, ...}) into a CQL2 expression, so it runs
// through the same compiler and evaluator as filters.
func ParseQuery(raw json.RawMessage) (cql2.Expr, error) {
	var q map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &q); err != nil {
		return nil, invalid("query", `must be an object like {"eo:cloud_cover": {"lt": 10}}`)
	}
	props := make([]string, 0, len(q))
	for p := range q {
		props = append(props, p)
	}
	sort.Strings(props)
	var args []cql2.Expr
	for _, name := range props {
		ops := q[name]
		if len(ops) == 0 {
			return nil, invalid("query", "property %q has no operator", name)
		}
		opNames := make([]string, 0, len(ops))
		for op := range ops {
			opNames = append(opNames, op)
		}
		sort.Strings(opNames)
		prop := cql2.Property{Name: strings.TrimPrefix(name, "properties.")}
		for _, op := range opNames {
			e, err := queryOp(prop, name, op, ops[op])
			if err != nil {
				return nil, err
			}
			args = append(args, e)
		}
	}
	switch len(args) {
	case 0:
		return nil, nil
	case 1:
		return args[0], nil
	}
	return cql2.And{Args: args}, nil
}

func queryLiteral(name, op string, raw json.RawMessage) (cql2.Expr, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, invalid("query", "%s.%s: not a JSON value", name, op)
	}
	switch t := v.(type) {
	case string:
		return cql2.String{Value: t}, nil
	case float64:
		return cql2.Number{Value: t}, nil
	case bool:
		return cql2.Bool{Value: t}, nil
	}
	return nil, invalid("query", "%s.%s: the value must be a string, number or boolean", name, op)
}

func likeEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

func queryOp(prop cql2.Property, name, op string, raw json.RawMessage) (cql2.Expr, error) {
	comps := map[string]cql2.CompOp{"eq": cql2.Eq, "neq": cql2.Ne, "lt": cql2.Lt, "lte": cql2.Le, "gt": cql2.Gt, "gte": cql2.Ge}
	if c, ok := comps[op]; ok {
		lit, err := queryLiteral(name, op, raw)
		if err != nil {
			return nil, err
		}
		return cql2.Comparison{Op: c, Left: prop, Right: lit}, nil
	}
	switch op {
	case "startsWith", "endsWith", "contains":
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalid("query", "%s.%s: the value must be a string", name, op)
		}
		pat := likeEscape(s)
		switch op {
		case "startsWith":
			pat += "%"
		case "endsWith":
			pat = "%" + pat
		default:
			pat = "%" + pat + "%"
		}
		return cql2.Like{Value: prop, Pattern: cql2.String{Value: pat}}, nil
	case "in":
		var vals []json.RawMessage
		if err := json.Unmarshal(raw, &vals); err != nil || len(vals) == 0 {
			return nil, invalid("query", "%s.in: the value must be a non-empty array", name)
		}
		list := make([]cql2.Expr, len(vals))
		for i, v := range vals {
			lit, err := queryLiteral(name, op, v)
			if err != nil {
				return nil, err
			}
			list[i] = lit
		}
		return cql2.In{Value: prop, List: list}, nil
	}
	return nil, invalid("query", "%s: unknown operator %q (eq, neq, lt, lte, gt, gte, startsWith, endsWith, contains, in)", name, op)
}
