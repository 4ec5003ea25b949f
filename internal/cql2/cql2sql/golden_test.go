package cql2sql_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/cql2/cql2sql"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenInputs are the examples plus every AllNodes filter.
func goldenInputs(t *testing.T) (names []string, exprs []cql2.Expr) {
	files, _ := filepath.Glob("../testdata/examples/text/*.txt")
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e, err := cql2.ParseText(string(src))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".txt"))
		exprs = append(exprs, e)
	}
	for i, e := range cql2.AllNodes() {
		names = append(names, fmt.Sprintf("allnodes%02d", i))
		exprs = append(exprs, e)
	}
	return names, exprs
}

func TestGoldenSQL(t *testing.T) {
	names, exprs := goldenInputs(t)
	for _, d := range []struct {
		file string
		d    cql2sql.Dialect
	}{
		{"testdata/sqlite.golden", &cql2sql.SQLite{Alias: "i"}},
		{"testdata/postgres.golden", &cql2sql.Postgres{Alias: "i"}},
	} {
		var out bytes.Buffer
		for i, e := range exprs {
			fmt.Fprintf(&out, "-- %s --\n%s\n", names[i], cql2.Text(e))
			cl, err := cql2sql.Compile(e, d.d)
			if err != nil {
				if !errors.Is(err, cql2.ErrUnsupported) {
					t.Errorf("%s: error %v does not wrap ErrUnsupported", names[i], err)
				}
				fmt.Fprintf(&out, "ERROR: %v\n", err)
				continue
			}
			fmt.Fprintf(&out, "SQL: %s\nARGS: %s\nEXACT: %v\n", cl.SQL, fmtArgs(cl.Args), cl.Exact)
			if n := strings.Count(cl.SQL, "?") + strings.Count(cl.SQL, "$"); n != len(cl.Args) && !strings.Contains(cl.SQL, "'") {
				t.Errorf("%s: %d placeholders, %d args", names[i], n, len(cl.Args))
			}
		}
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(d.file, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(d.file)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(want, out.Bytes()) {
			t.Errorf("%s differs; run go test ./internal/cql2/cql2sql -run Golden -update and review the diff", d.file)
		}
	}
}

func fmtArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case []byte:
			parts[i] = fmt.Sprintf("wkb(%d bytes)", len(v))
		case string:
			parts[i] = fmt.Sprintf("%q", v)
		default:
			parts[i] = fmt.Sprintf("%v", v)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func TestPostgresArgOffset(t *testing.T) {
	e, err := cql2.ParseText(`a = 1 AND b = 'x'`)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := cql2sql.Compile(e, &cql2sql.Postgres{ArgOffset: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cl.SQL, "$3") || !strings.Contains(cl.SQL, "$4") || strings.Contains(cl.SQL, "$1") {
		t.Errorf("placeholders not offset: %s", cl.SQL)
	}
}

func TestInvalidPropertyName(t *testing.T) {
	for _, name := range []string{`a'b`, `a"b`, `a\b`, "a\nb"} {
		e := cql2.Comparison{Op: cql2.Eq, Left: cql2.Property{Name: name}, Right: cql2.Number{Value: 1}}
		for _, d := range []cql2sql.Dialect{&cql2sql.SQLite{}, &cql2sql.Postgres{}} {
			_, err := cql2sql.Compile(e, d)
			var ipe *cql2sql.InvalidPropertyError
			if !errors.As(err, &ipe) {
				t.Errorf("%q: err = %v, want *InvalidPropertyError", name, err)
			}
		}
	}
}
