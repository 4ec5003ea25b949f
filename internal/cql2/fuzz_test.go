package cql2_test

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/cql2"
)

func addTextSeeds(f *testing.F) {
	files, _ := filepath.Glob("testdata/examples/text/*.txt")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(string(b))
		}
	}
	if fh, err := os.Open("testdata/ats/expressions.txt"); err == nil {
		defer fh.Close()
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			if _, expr, ok := strings.Cut(sc.Text(), "|"); ok && !strings.HasPrefix(sc.Text(), "#") {
				f.Add(expr)
			}
		}
	}
	for _, e := range cql2.AllNodes() {
		f.Add(cql2.Text(e))
	}
}

// checkParsed asserts the invariants every successfully parsed expression
// must satisfy: both encodings round-trip and evaluation does not panic.
func checkParsed(t *testing.T, e cql2.Expr) {
	txt := cql2.Text(e)
	back, err := cql2.ParseText(txt)
	if err != nil {
		t.Fatalf("ParseText(Text(e)) = %v\ntext: %s", err, txt)
	}
	if !cql2.Equal(e, back) {
		t.Fatalf("text round trip differs\ntext: %s\nback: %s", txt, cql2.Text(back))
	}
	js, err := cql2.JSON(e)
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	back, err = cql2.ParseJSON(js)
	if err != nil {
		t.Fatalf("ParseJSON(JSON(e)) = %v\njson: %s", err, js)
	}
	if !cql2.Equal(e, back) {
		t.Fatalf("JSON round trip differs\njson: %s\nback: %s", js, cql2.Text(back))
	}
	_, err = cql2.Evaluate(e, sampleItem())
	if err != nil && !errors.Is(err, cql2.ErrUnsupported) {
		t.Fatalf("Evaluate: unexpected error %v", err)
	}
}

func FuzzParseText(f *testing.F) {
	addTextSeeds(f)
	f.Fuzz(func(t *testing.T, s string) {
		e, err := cql2.ParseText(s)
		if err != nil {
			var se *cql2.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is %T, want *SyntaxError", err, err)
			}
			if se.Pos < 0 || se.Pos > len(s) {
				t.Fatalf("position %d outside input of length %d", se.Pos, len(s))
			}
			return
		}
		checkParsed(t, e)
	})
}

func FuzzParseJSON(f *testing.F) {
	files, _ := filepath.Glob("testdata/examples/json/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	for _, e := range cql2.AllNodes() {
		if b, err := cql2.JSON(e); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := cql2.ParseJSON(b)
		if err != nil {
			var se *cql2.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is %T, want *SyntaxError", err, err)
			}
			return
		}
		checkParsed(t, e)
	})
}
