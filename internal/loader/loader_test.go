package loader_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/loader"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
)

func item(coll, id string, version int) string {
	return fmt.Sprintf(`{"type":"Feature","stac_version":"1.0.0","id":%q,"collection":%q,`+
		`"geometry":{"type":"Point","coordinates":[1,2]},"bbox":[1,2,1,2],`+
		`"properties":{"datetime":"2024-01-01T00:00:00Z","version":%d},"links":[],"assets":{}}`, id, coll, version)
}

func collection(id string) string {
	return fmt.Sprintf(`{"type":"Collection","stac_version":"1.0.0","id":%q,"description":"d","license":"CC-BY-4.0",`+
		`"extent":{"spatial":{"bbox":[[-180,-90,180,90]]},"temporal":{"interval":[[null,null]]}},"links":[]}`, id)
}

// TestConcurrentWritersKeepOrder loads, with small batches written by
// several writers at once, a file where items come before their
// collection, items are repeated in later batches with a new version and
// one record is bad: every item must end up at its last version.
func TestConcurrentWritersKeepOrder(t *testing.T) {
	ctx := context.Background()
	var lines []string
	const n = 60
	// Items of "late" before the collection: written as orphans at the end.
	for i := range n {
		lines = append(lines, item("late", fmt.Sprint("l", i), 1))
	}
	lines = append(lines, collection("c"))
	for v := 1; v <= 3; v++ {
		for i := range n {
			lines = append(lines, item("c", fmt.Sprint("i", i), v))
		}
		lines = append(lines, item("late", "l7", v+1)) // orphans repeated too
	}
	lines = append(lines, `{"type":"Feature","id":"bad"}`)
	lines = append(lines, collection("late"))
	path := filepath.Join(t.TempDir(), "items.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, writers := range []int{1, 4} {
		t.Run(fmt.Sprint("writers=", writers), func(t *testing.T) {
			st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"), sqlite.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var errs strings.Builder
			sum, err := loader.Load(ctx, st, []string{path}, loader.Options{BatchSize: 7, Writers: writers, Errors: &errs})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Failed != 1 || !strings.Contains(errs.String(), "items.ndjson:") {
				t.Errorf("failed %d, errors %q; want the bad record alone", sum.Failed, errs.String())
			}
			if want := n + 3*n + 3; sum.Items != want || sum.Collections != 2 {
				t.Errorf("summary %+v, want %d items and 2 collections", sum, want)
			}
			check := func(coll, id string, version int) {
				t.Helper()
				r, err := st.Item(ctx, coll, id)
				if err != nil {
					t.Fatalf("%s/%s: %v", coll, id, err)
				}
				if want := fmt.Sprintf(`"version":%d`, version); !strings.Contains(string(r.Doc), want) {
					t.Errorf("%s/%s holds %s, want %s", coll, id, r.Doc, want)
				}
			}
			for i := range n {
				check("c", fmt.Sprint("i", i), 3)
				if i != 7 {
					check("late", fmt.Sprint("l", i), 1)
				}
			}
			check("late", "l7", 4)
		})
	}
}
