package search_test

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/search"
)

func TestFieldsApply(t *testing.T) {
	item := func() map[string]any {
		var m map[string]any
		_ = json.Unmarshal([]byte(`{"type":"Feature","id":"a","collection":"c","geometry":{"type":"Point"},"bbox":[0,0,1,1],
			"properties":{"datetime":"x","eo:cloud_cover":5,"platform":"p","view":{"a":1,"b":2}},"assets":{"B1":{"href":"h"},"B2":{"href":"i"}}}`), &m)
		return m
	}
	keys := func(m map[string]any, path ...string) []string {
		for _, p := range path {
			m, _ = m[p].(map[string]any)
		}
		var out []string
		for k := range m {
			out = append(out, k)
		}
		return sortStrings(out)
	}
	tests := []struct {
		name   string
		fields string
		top    []string
		props  []string
	}{
		{"none", "", []string{"assets", "bbox", "collection", "geometry", "id", "properties", "type"}, []string{"datetime", "eo:cloud_cover", "platform", "view"}},
		{"exclude geometry", "-geometry", []string{"assets", "bbox", "collection", "id", "properties", "type"}, []string{"datetime", "eo:cloud_cover", "platform", "view"}},
		{"include one property", "properties.eo:cloud_cover", []string{"collection", "id", "properties", "type"}, []string{"eo:cloud_cover"}},
		{"include properties minus one", "properties,-properties.platform", []string{"collection", "id", "properties", "type"}, []string{"datetime", "eo:cloud_cover", "view"}},
		{"exclude properties but one", "-properties,properties.platform", []string{"collection", "id", "properties", "type"}, []string{"platform"}},
		{"include wins a tie", "id,-id", []string{"collection", "id", "type"}, nil},
		{"nested", "properties.view.a", []string{"collection", "id", "properties", "type"}, []string{"view"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := search.ParseFieldsGET(tc.fields)
			if err != nil {
				t.Fatal(err)
			}
			out := f.Apply(item())
			if got := keys(out); !reflect.DeepEqual(got, tc.top) {
				t.Errorf("top-level %v, want %v", got, tc.top)
			}
			if got := keys(out, "properties"); !reflect.DeepEqual(got, tc.props) {
				t.Errorf("properties %v, want %v", got, tc.props)
			}
		})
	}
	f, _ := search.ParseFieldsGET("properties.view.a")
	if v := f.Apply(item())["properties"].(map[string]any)["view"].(map[string]any); len(v) != 1 || v["a"] != 1.0 {
		t.Errorf("nested include: %v", v)
	}
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestQueryExtension(t *testing.T) {
	tests := []struct{ query, text string }{
		{`{"eo:cloud_cover":{"lt":10}}`, `"eo:cloud_cover" < 10`},
		{`{"eo:cloud_cover":{"gte":1,"lte":5}}`, `("eo:cloud_cover" >= 1 AND "eo:cloud_cover" <= 5)`},
		{`{"platform":{"eq":"a"},"id":{"startsWith":"S2_"}}`, `(id LIKE 'S2\_%' AND platform = 'a')`},
		{`{"platform":{"in":["a","b"]}}`, `platform IN ('a', 'b')`},
		{`{"title":{"contains":"50%"}}`, `title LIKE '%50\%%'`},
		{`{"title":{"endsWith":"x"},"n":{"neq":true}}`, `(n <> TRUE AND title LIKE '%x')`},
	}
	for _, tc := range tests {
		e, err := search.ParseQuery(json.RawMessage(tc.query))
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		want, err := cql2.ParseText(tc.text)
		if err != nil {
			t.Fatalf("%s: %v", tc.text, err)
		}
		if !cql2.Equal(e, want) {
			t.Errorf("%s → %s, want %s", tc.query, cql2.Text(e), cql2.Text(want))
		}
	}
	for _, bad := range []string{`[]`, `{"a":{}}`, `{"a":{"like":1}}`, `{"a":{"in":[]}}`, `{"a":{"lt":[1]}}`, `{"a":{"startsWith":1}}`} {
		if _, err := search.ParseQuery(json.RawMessage(bad)); err == nil || !strings.Contains(err.Error(), "query") {
			t.Errorf("%s: %v, want an error naming query", bad, err)
		}
	}
}

func TestParseSort(t *testing.T) {
	v := url.Values{"sortby": {"-properties.eo:cloud_cover, id"}}
	q, err := search.ParseGET(v, search.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want := []search.SortField{{Field: "eo:cloud_cover", Desc: true}, {Field: "id"}}
	if !reflect.DeepEqual(q.SortBy, want) {
		t.Fatalf("%v", q.SortBy)
	}
	q, err = search.ParsePOST([]byte(`{"sortby":[{"field":"properties.eo:cloud_cover","direction":"desc"},{"field":"id"}]}`), search.DefaultLimits())
	if err != nil || !reflect.DeepEqual(q.SortBy, want) {
		t.Fatalf("%v %v", q.SortBy, err)
	}
	for _, bad := range []string{`{"sortby":"id"}`, `{"sortby":[{"field":"id","direction":"up"}]}`, `{"sortby":[{"direction":"asc"}]}`, `{"sortby":[{"field":"a"},{"field":"a"}]}`, `{"sortby":[]}`} {
		if _, err := search.ParsePOST([]byte(bad), search.DefaultLimits()); err == nil || !strings.Contains(err.Error(), "sortby") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
