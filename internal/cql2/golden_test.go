package cql2_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/cql2"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestGoldenTextToJSON records the cql2-json encoding of every example's
// cql2-text in testdata/golden/text_to_json.golden.
func TestGoldenTextToJSON(t *testing.T) {
	files, _ := filepath.Glob("testdata/examples/text/*.txt")
	var out bytes.Buffer
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e, err := cql2.ParseText(string(src))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		js, err := cql2.JSON(e)
		if err != nil {
			t.Fatal(err)
		}
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, js, "", "  "); err != nil {
			t.Fatal(err)
		}
		out.WriteString("-- " + strings.TrimSuffix(filepath.Base(f), ".txt") + " --\n")
		out.WriteString(strings.TrimSpace(string(src)) + "\n=>\n" + pretty.String() + "\n")
	}
	golden := "testdata/golden/text_to_json.golden"
	if *update {
		if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(want, out.Bytes()) {
		t.Errorf("%s differs from the current output; run go test ./internal/cql2 -run Golden -update and review the diff", golden)
	}
}
