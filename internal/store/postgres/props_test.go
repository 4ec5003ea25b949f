package postgres

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tessera-geo/tessera/internal/stac"
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
		got, ok := properties(stac.Item{Doc: []byte(tc.doc)})
		if ok != tc.ok || string(got) != tc.want {
			t.Errorf("properties(%s) = %s, %v; want %s, %v", tc.doc, got, ok, tc.want, tc.ok)
		}
	}
	// Agrees with encoding/json on realistic items, scanned and decoded
	// (where the decoder marks the member in the canonical document; one
	// geometry holds a foreign "properties" member first).
	g := synth.New(synth.Options{Seed: 3})
	for i := range 200 {
		doc := g.Next()
		if i == 0 {
			doc = bytes.Replace(doc, []byte(`"geometry":{`), []byte(`"geometry":{"properties":{"x":1},`), 1)
		}
		it, err := stac.DecodeItem(doc, stac.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var v struct{ Properties json.RawMessage }
		if err := json.Unmarshal(it.Doc, &v); err != nil {
			t.Fatal(err)
		}
		scanned, ok := properties(stac.Item{Doc: it.Doc})
		if !ok || string(scanned) != string(v.Properties) {
			t.Fatalf("properties of %s:\n%s\nwant\n%s", it.Doc, scanned, v.Properties)
		}
		if got, ok := properties(it); !ok || string(got) != string(v.Properties) {
			t.Fatalf("properties of decoded %s:\n%s\nwant\n%s", it.Doc, got, v.Properties)
		}
	}
}

func BenchmarkProperties(b *testing.B) {
	doc := synth.New(synth.Options{Seed: 3}).Next()
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		properties(stac.Item{Doc: doc})
	}
}

// TestSearchTextDecodedOrNot checks that the words of a decoded item (read
// from its property list) equal those read from its document alone.
func TestSearchTextDecodedOrNot(t *testing.T) {
	doc := []byte(`{"type":"Feature","stac_version":"1.0.0","id":"S2B_T31_Été","collection":"c",
		"geometry":{"type":"Point","coordinates":[1,2]},
		"properties":{"datetime":"2024-01-02T00:00:00Z","title":"Lac \"Léman\" \u00e0 l'aube",
		"description":null,"keywords":["Ozone",3,"sea ice"],"title2":"not read"},
		"assets":{},"links":[]}`)
	it, err := stac.DecodeItem(doc, stac.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const want = "s2b t31 ete c lac leman a l aube ozone 3 sea ice"
	p, ok := properties(it)
	if got := searchText(it, p, ok); got != want {
		t.Errorf("decoded: %q, want %q", got, want)
	}
	bare := stac.Item{ID: it.ID, Collection: it.Collection, Doc: it.Doc}
	p, ok = properties(bare)
	if got := searchText(bare, p, ok); got != want {
		t.Errorf("from the document: %q, want %q", got, want)
	}
}
