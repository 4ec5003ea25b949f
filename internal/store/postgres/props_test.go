package postgres

import (
	"encoding/json"
	"testing"

	"github.com/tessera-geo/tessera/internal/synth"
)

func TestProperties(t *testing.T) {
	tests := []struct {
		doc, want string
		ok        bool
	}{
		{`{"properties":{"a":1}}`, `{"a":1}`, true},
		{` { "id" : "x\"properties\"" , "geometry":{"type":"Point","properties":[1,{"}":"]"}]}, "properties" : {"s":"\\"} , "links":[]}`, `{"s":"\\"}`, true},
		{`{"a":[1,2,{"b":null}],"n":-1.5e3,"t":true,"properties":null}`, `null`, true},
		{`{"id":"x"}`, "", false},
		{`[1]`, "", false},
		{`{"id":"x`, "", false},
		{`{"properties":{"a":`, "", false},
	}
	for _, tc := range tests {
		got, ok := properties([]byte(tc.doc))
		if ok != tc.ok || string(got) != tc.want {
			t.Errorf("properties(%s) = %s, %v; want %s, %v", tc.doc, got, ok, tc.want, tc.ok)
		}
	}
	// Agrees with encoding/json on realistic items.
	g := synth.New(synth.Options{Seed: 3})
	for range 200 {
		doc := g.Next()
		var v struct{ Properties json.RawMessage }
		if err := json.Unmarshal(doc, &v); err != nil {
			t.Fatal(err)
		}
		got, ok := properties(doc)
		if !ok || string(got) != string(v.Properties) {
			t.Fatalf("properties of %s:\n%s\nwant\n%s", doc, got, v.Properties)
		}
	}
}

func BenchmarkProperties(b *testing.B) {
	doc := synth.New(synth.Options{Seed: 3}).Next()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		properties(doc)
	}
}
