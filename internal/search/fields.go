package search

import (
	"encoding/json"
	"strings"
)

// Fields selects the members of returned items (the Fields extension).
// Paths are dotted ("properties.eo:cloud_cover", "assets.visual"). The most
// specific rule for a member wins; include wins a tie. Without any include,
// everything not excluded is kept; with includes, only what they name (and
// type, id and collection, which clients need to make sense of an item).
type Fields struct {
	Include, Exclude []string
}

// Empty reports whether the selection keeps the whole item.
func (f *Fields) Empty() bool { return f == nil || len(f.Include) == 0 && len(f.Exclude) == 0 }

// ParseFieldsGET parses "a,-b,+c".
func ParseFieldsGET(s string) (*Fields, error) {
	f := &Fields{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		switch {
		case p == "":
		case p[0] == '-':
			f.Exclude = append(f.Exclude, strings.TrimSpace(p[1:]))
		case p[0] == '+':
			f.Include = append(f.Include, strings.TrimSpace(p[1:]))
		default:
			f.Include = append(f.Include, p)
		}
	}
	return f, f.check()
}

// ParseFieldsPOST parses {"include": [...], "exclude": [...]}.
func ParseFieldsPOST(raw json.RawMessage) (*Fields, error) {
	var f Fields
	var v struct {
		Include *[]string `json:"include"`
		Exclude *[]string `json:"exclude"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, invalid("fields", `must be {"include": [...], "exclude": [...]} with string arrays`)
	}
	if v.Include != nil {
		f.Include = *v.Include
	}
	if v.Exclude != nil {
		f.Exclude = *v.Exclude
	}
	return &f, f.check()
}

func (f *Fields) check() error {
	for _, p := range append(append([]string(nil), f.Include...), f.Exclude...) {
		if p == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
			return invalid("fields", "%q is not a field path", p)
		}
	}
	return nil
}

// Apply returns the item with only the selected members.
func (f *Fields) Apply(item map[string]any) map[string]any {
	if f.Empty() {
		return item
	}
	out := f.walk(item, "")
	if len(f.Include) > 0 {
		for _, k := range []string{"type", "id", "collection"} {
			if v, ok := item[k]; ok && !f.excludedExactly(k) {
				out[k] = v
			}
		}
	}
	return out
}

func (f *Fields) excludedExactly(path string) bool {
	for _, e := range f.Exclude {
		if e == path {
			return true
		}
	}
	return false
}

// rule returns the decision of the most specific rule for path (an equal
// or ancestor path), and whether any rule matched.
func (f *Fields) rule(path string) (include, matched bool) {
	best := -1
	for _, list := range []struct {
		paths []string
		inc   bool
	}{{f.Exclude, false}, {f.Include, true}} {
		for _, p := range list.paths {
			if (p == path || strings.HasPrefix(path, p+".")) && len(p) >= best {
				best, include = len(p), list.inc
			}
		}
	}
	return include, best >= 0
}

// deeper reports whether some rule names a path strictly under path.
func (f *Fields) deeper(path string) bool {
	for _, p := range append(append([]string(nil), f.Include...), f.Exclude...) {
		if strings.HasPrefix(p, path+".") {
			return true
		}
	}
	return false
}

func (f *Fields) walk(obj map[string]any, prefix string) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		path := prefix + k
		inc, matched := f.rule(path)
		if !matched {
			inc = len(f.Include) == 0
		}
		if child, ok := v.(map[string]any); ok && f.deeper(path) {
			sub := f.walk(child, path+".")
			if len(sub) > 0 || (inc && matched) {
				out[k] = sub
			}
			continue
		}
		if inc {
			out[k] = v
		}
	}
	return out
}
