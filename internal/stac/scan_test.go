package stac

import (
	"encoding/json"
	"testing"
)

func TestMembersMatchesEncodingJSON(t *testing.T) {
	docs := []string{
		`{}`,
		` { "a" : 1 , "b":[1,{"c":"}"}], "d\"e": "x\\\"y", "n": null, "t": true, "f": -1.5e3 } `,
		`{"nested":{"a":{"b":[[],{}]}},"s":"{[\"]}"}`,
	}
	for _, d := range docs {
		var want map[string]json.RawMessage
		if err := json.Unmarshal([]byte(d), &want); err != nil {
			t.Fatal(err)
		}
		got, err := members([]byte(d), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d members, want %d", d, len(got), len(want))
		}
		for _, m := range got {
			var k string
			_ = json.Unmarshal([]byte(`"`+m.key+`"`), &k)
			if string(want[k]) != string(m.value) {
				t.Errorf("%s: member %q = %s, want %s", d, k, m.value, want[k])
			}
		}
	}
	if _, err := members([]byte(`[1]`), nil); err == nil {
		t.Error("array accepted as object")
	}
}

func FuzzMembers(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":[1,2,"]"]}}`))
	f.Add([]byte(`{"type":"Feature","id":"x\"y"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		var want map[string]json.RawMessage
		if json.Unmarshal(b, &want) != nil {
			_, _ = members(b, nil) // must not panic
			return
		}
		got, err := members(b, nil)
		if err != nil {
			t.Fatalf("valid object refused: %v", err)
		}
		for _, m := range got {
			var k string
			if json.Unmarshal([]byte(`"`+m.key+`"`), &k) != nil {
				continue
			}
			if w, ok := want[k]; ok && !json.Valid(m.value) {
				t.Fatalf("member %q: %q is not valid JSON (want %s)", k, m.value, w)
			}
		}
	})
}
