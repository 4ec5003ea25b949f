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

// roundTrip checks that both encodings of e parse back to e.
func roundTrip(t *testing.T, e cql2.Expr) {
	t.Helper()
	txt := cql2.Text(e)
	back, err := cql2.ParseText(txt)
	if err != nil {
		t.Fatalf("ParseText(Text(e)) failed: %v\ntext: %s", err, txt)
	}
	if !cql2.Equal(e, back) {
		t.Fatalf("text round trip differs:\n  text: %s\n  back: %s", txt, cql2.Text(back))
	}
	js, err := cql2.JSON(e)
	if err != nil {
		t.Fatalf("JSON(e): %v", err)
	}
	back, err = cql2.ParseJSON(js)
	if err != nil {
		t.Fatalf("ParseJSON(JSON(e)) failed: %v\njson: %s", err, js)
	}
	if !cql2.Equal(e, back) {
		t.Fatalf("JSON round trip differs:\n  json: %s\n  back: %s", js, cql2.Text(back))
	}
}

func TestExamples(t *testing.T) {
	files, err := filepath.Glob("testdata/examples/text/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			te, err := cql2.ParseText(string(src))
			if err != nil {
				t.Fatalf("ParseText: %v", err)
			}
			roundTrip(t, te)
			base, _, _ := strings.Cut(name, "-alt")
			js, err := os.ReadFile(filepath.Join("testdata/examples/json", base+".json"))
			if err != nil {
				t.Fatalf("no JSON twin: %v", err)
			}
			je, err := cql2.ParseJSON(js)
			if err != nil {
				t.Fatalf("ParseJSON: %v", err)
			}
			roundTrip(t, je)
			if !cql2.Equal(te, je) {
				t.Fatalf("text and JSON differ:\n text: %s\n json: %s", cql2.Text(te), cql2.Text(je))
			}
		})
	}
}

func TestATSExpressions(t *testing.T) {
	f, err := os.Open("testdata/ats/expressions.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		class, expr, ok := strings.Cut(line, "|")
		if !ok {
			t.Fatalf("malformed line %q", line)
		}
		n++
		if _, err := cql2.ParseText(expr); err != nil {
			var se *cql2.SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("%s: %q: error is %T, want *SyntaxError", class, expr, err)
			}
			t.Errorf("%s: %q: %v", class, expr, err)
			continue
		}
	}
	if n < 100 {
		t.Fatalf("only %d expressions", n)
	}
}
