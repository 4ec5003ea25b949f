package stac

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/synth"
)

// validCases are inputs on which validJSON and json.Valid must agree,
// valid and not, one grammar rule each.
var validCases = []string{
	``, ` `, `1`, ` 1 `, "\t\r\n[]\n", `{}`, `[]`, `""`, `"a"`, `true`, `false`, `null`,
	`tru`, `nul`, `falsey`, `truex`, `True`, `1 2`, `{} {}`, `,`, `]`, `}`,
	`0`, `-0`, `01`, `-`, `-01`, `1.`, `1.5`, `.5`, `1e`, `1e5`, `1E+5`, `1e-5`, `1e+`, `-1.5e-3`, `1.e3`, `+1`, `0x10`, `1.5.5`,
	`"\"\\\/\b\f\n\r\t"`, `"\u00e9"`, `"\u00E9\uD83D\uDE00"`, `"\u12"`, `"\u12G4"`, `"\x41"`, `"\'"`, `"a` + "\x00" + `b"`, "\"tab\there\"", `"é"`, "\"\xff\xfe\"", `"unterminated`, `"\`,
	`[1,2]`, `[1,]`, `[,1]`, `[1 2]`, `[`, `[1`, `[1,`, ` [ 1 , [ ] , { } ] `,
	`{"a":1}`, `{"a":1,}`, `{"a" 1}`, `{"a":}`, `{a:1}`, `{"a":1 "b":2}`, `{1:2}`, `{"a":1`, `{"a"`, `{"`, `{"a":1}}`, `{"a":[{"b":null}],"c":"d"}`,
}

func TestValidJSON(t *testing.T) {
	for _, c := range validCases {
		if got, want := validJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("validJSON(%q) = %v, json.Valid says %v", c, got, want)
		}
	}
	// The nesting limit: 10,000 levels pass, 10,001 do not.
	for _, n := range []int{maxDepth, maxDepth + 1} {
		for _, open := range []string{"[", `{"a":`} {
			close := "]"
			if open != "[" {
				close = "}"
			}
			doc := []byte(strings.Repeat(open, n) + "1" + strings.Repeat(close, n))
			if got, want := validJSON(doc), json.Valid(doc); got != want {
				t.Errorf("%d levels of %s: validJSON %v, json.Valid %v", n, open, got, want)
			}
		}
	}
	g := synth.New(synth.Options{Seed: 5})
	for range 100 {
		if doc := g.Next(); !validJSON(doc) {
			t.Fatalf("a synthetic item refused: %s", doc)
		}
	}
}

// FuzzValidJSON checks validJSON against json.Valid on any input.
func FuzzValidJSON(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c))
	}
	f.Add(synth.New(synth.Options{Seed: 5}).Next())
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := validJSON(b), json.Valid(b); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid says %v", b, got, want)
		}
	})
}

func BenchmarkValidJSON(b *testing.B) {
	doc := synth.New(synth.Options{Seed: 1}).Next()
	b.SetBytes(int64(len(doc)))
	for _, bc := range []struct {
		name string
		fn   func([]byte) bool
	}{{"validJSON", validJSON}, {"json.Valid", json.Valid}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if !bc.fn(doc) {
					b.Fatal("refused")
				}
			}
		})
	}
}

// FuzzObjectMembers checks objectMembers against validJSON and members.
func FuzzObjectMembers(f *testing.F) {
	for _, c := range validCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(` { "a" : 1 , "b":[{"c":"}"}], "a\"b" : "x" , "a":null } `))
	f.Add(synth.New(synth.Options{Seed: 5}).Next())
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := objectMembers(b, nil)
		want, err := members(b, nil)
		if wantOK := validJSON(b) && err == nil; ok != wantOK {
			t.Fatalf("objectMembers(%q): ok %v; validJSON %v, members %v", b, ok, validJSON(b), err)
		}
		if !ok {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("objectMembers(%q): %d members, members finds %d", b, len(got), len(want))
		}
		for i := range got {
			if got[i].key != want[i].key || string(got[i].value) != string(want[i].value) {
				t.Fatalf("objectMembers(%q): member %d is %q=%s, members says %q=%s", b, i, got[i].key, got[i].value, want[i].key, want[i].value)
			}
		}
	})
}

// FuzzUnquote checks unquote against json.Unmarshal into a string.
func FuzzUnquote(f *testing.F) {
	for _, c := range []string{`"a"`, `""`, `null`, `"\u00e9"`, `"é"`, `"a\"b"`, "\"\x01\"", `"\xff"`, `1`, `"a`, `"a" `, ` "a"`, `["a"]`, `"a""`} {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		err := json.Unmarshal(b, &want)
		got, ok := unquote(b)
		if ok != (err == nil) || got != want {
			t.Fatalf("unquote(%q) = %q, %v; json.Unmarshal gives %q, %v", b, got, ok, want, err)
		}
	})
}
