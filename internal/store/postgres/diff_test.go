package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/cql2"
	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
	"github.com/tessera-geo/tessera/internal/store/storetest"
	"github.com/tessera-geo/tessera/internal/synth"
)

// TestDifferentialSQLite writes the same catalog into the SQLite store and
// this one, batch by batch in every write mode (with duplicates, orphans
// and conflicts), and requires the same per-item outcomes; then it runs a
// few hundred random searches on both and requires identical items in
// identical order, page after page.
func TestDifferentialSQLite(t *testing.T) {
	pg := newStore(t)
	defer pg.Close()
	ctx := context.Background()
	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "catalog.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	stores := []store.Store{lite, pg}
	rng := rand.New(rand.NewPCG(1, 2))

	n := 3000
	if testing.Short() {
		n = 600
	}
	colls := []string{"s2-a", "s2-b", "Zeta", "été"}
	var all []stac.Item
	for ci, c := range colls {
		for _, s := range stores {
			if err := s.PutCollection(ctx, storetest.Collection(t, c), store.Upsert); err != nil {
				t.Fatal(err)
			}
		}
		g := synth.New(synth.Options{Collection: c, Seed: uint64(ci), Years: 2})
		for range n / len(colls) {
			it, err := stac.DecodeItem(g.Next(), stac.DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, it)
		}
	}
	// Ties on datetime across collections and ids, long intervals,
	// antimeridian crossers and points.
	base := all[0].Start
	for i := range 200 {
		c := colls[i%len(colls)]
		spec := storetest.ItemSpec{Collection: c, ID: fmt.Sprintf("tie-%03d", i%50),
			X: float64(rng.IntN(340) - 170), Y: float64(rng.IntN(140) - 70)}
		// Values of other types where sorts and filters expect numbers or
		// strings, and text for free-text searches.
		switch i % 5 {
		case 0:
			spec.Props = map[string]any{"eo:cloud_cover": "12", "title": "Café près de l'été", "keywords": []string{"flood", "river"}}
		case 1:
			spec.Props = map[string]any{"eo:cloud_cover": i%2 == 0, "platform": "Sentinel-2A", "description": "River flood"}
		case 2:
			spec.Props = map[string]any{"eo:cloud_cover": float64(i % 7), "title": "Zeta river", "view:sun_azimuth": nil}
		case 3:
			spec.Props = map[string]any{"platform": 7, "title": "flood"}
		}
		switch i % 4 {
		case 0:
			spec.Datetime = ptr(base.Add(time.Duration(i%3) * time.Hour))
		case 1:
			spec.Start, spec.End = ptr(base.AddDate(0, -i%13, 0)), ptr(base.AddDate(0, i%7, 0))
		case 2:
			spec.Datetime = ptr(base.Add(time.Duration(i) * time.Minute))
			spec.Geometry = `{"type":"MultiPolygon","coordinates":[[[[179,-17],[180,-17],[180,-16],[179,-16],[179,-17]]],[[[-180,-17],[-179,-17],[-179,-16],[-180,-16],[-180,-17]]]]}`
		case 3:
			spec.Datetime = ptr(base.Add(time.Duration(i%5) * time.Hour))
			spec.Geometry = fmt.Sprintf(`{"type":"Point","coordinates":[%d,%d]}`, rng.IntN(360)-180, rng.IntN(180)-90)
		}
		all = append(all, storetest.Item(t, spec))
	}
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })

	// Writes: mostly upserts; some batches hold orphans and duplicates; then
	// Create and Replace batches over a mix of present and absent items.
	orphan := storetest.Item(t, storetest.ItemSpec{Collection: "missing", ID: "orphan", Datetime: ptr(base)})
	write := func(batch []stac.Item, mode store.WriteMode) {
		t.Helper()
		var outcomes [2][]string
		for si, s := range stores {
			errs, err := s.PutItems(ctx, batch, mode)
			if err != nil {
				t.Fatalf("store %d: %v", si, err)
			}
			for _, e := range errs {
				outcomes[si] = append(outcomes[si], outcome(e))
			}
		}
		if !slices.Equal(outcomes[0], outcomes[1]) {
			t.Fatalf("mode %d: per-item outcomes differ:\nsqlite   %v\npostgres %v", mode, outcomes[0], outcomes[1])
		}
	}
	present := all[:len(all)*3/4]
	for start := 0; start < len(present); start += 250 {
		batch := slices.Clone(present[start:min(start+250, len(present))])
		if start%1000 == 0 {
			batch = append(batch, orphan, batch[0], batch[3])
		}
		write(batch, store.Upsert)
	}
	absent := all[len(present):]
	mixed := func() []stac.Item {
		var b []stac.Item
		for range 60 {
			if rng.IntN(2) == 0 {
				b = append(b, present[rng.IntN(len(present))])
			} else {
				b = append(b, absent[rng.IntN(len(absent))])
			}
		}
		return append(b, b[0], b[1], orphan)
	}
	write(mixed(), store.Replace)
	write(mixed(), store.Create)
	write(absent, store.Upsert)
	for _, s := range stores {
		if err := s.DeleteItem(ctx, all[7].Collection, all[7].ID); err != nil {
			t.Fatal(err)
		}
	}

	nonEmpty, total := 0, 0
	var spent [2]time.Duration
	for i := range 300 {
		q := randomQuery(rng, base, colls, all)
		extend(t, rng, &q)
		var walks [2][]string
		for si, s := range stores {
			t0 := time.Now()
			walks[si] = walkAll(t, s, q)
			spent[si] += time.Since(t0)
		}
		if !slices.Equal(walks[0], walks[1]) {
			t.Fatalf("query %d %s: results differ:\nsqlite   (%d) %v\npostgres (%d) %v", i, describe(q),
				len(walks[0]), head(walks[0]), len(walks[1]), head(walks[1]))
		}
		if len(walks[0]) > 0 {
			nonEmpty++
		}
		total += len(walks[0])
	}
	t.Logf("300 searches, %d with results, %d results in all; walks took %v (sqlite), %v (postgres)", nonEmpty, total, spent[0], spent[1])
	if nonEmpty < 100 {
		t.Fatalf("only %d of 300 searches found anything: the comparison proves little", nonEmpty)
	}
}

// extend adds what the capability interfaces honour: a filter of the
// contract's corpus, a sort order, free text.
func extend(t *testing.T, rng *rand.Rand, q *search.Query) {
	t.Helper()
	if rng.IntN(3) == 0 {
		e, err := cql2.ParseText(storetest.FilterCorpus[rng.IntN(len(storetest.FilterCorpus))])
		if err != nil {
			t.Fatal(err)
		}
		q.Filter = e
	}
	if rng.IntN(2) == 0 {
		q.SortBy = diffSorts[rng.IntN(len(diffSorts))]
		// Pages of 1 or 3 in an order no index serves sort everything
		// once per page: keep the walks short.
		q.Limit = max(q.Limit, 7)
	}
	if rng.IntN(4) == 0 {
		// No phrase spans two fields: SQLite's FTS5 matches phrases within
		// one column, search.FreeText.Matches (and this store) over the
		// joined text.
		f, err := search.ParseFreeText(diffTexts[rng.IntN(len(diffTexts))])
		if err != nil {
			t.Fatal(err)
		}
		q.Q = f
	}
}

var diffSorts = [][]search.SortField{
	{{Field: "datetime"}},
	{{Field: "id"}},
	{{Field: "id", Desc: true}, {Field: "collection"}},
	{{Field: "eo:cloud_cover"}},
	{{Field: "eo:cloud_cover", Desc: true}},
	{{Field: "platform"}, {Field: "datetime", Desc: true}},
	{{Field: "collection", Desc: true}, {Field: "end_datetime"}},
	{{Field: "view:sun_azimuth", Desc: true}},
	{{Field: "title"}, {Field: "eo:cloud_cover", Desc: true}},
}

var diffTexts = []string{
	"s2a", "S2B -l2a", "ete", "zeta,tie", `"s2 a"`, "tie AND 003", "+flood -river", "cafe", "pres OR zeta",
	"l2a -s2a", `"river flood"`, "-flood",
}

func outcome(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, store.ErrConflict):
		return "conflict"
	case errors.Is(err, store.ErrNotFound):
		return "notfound"
	case errors.Is(err, store.ErrCollectionMissing):
		return "nocollection"
	}
	return err.Error()
}

func ptr[T any](v T) *T { return &v }

func randomQuery(rng *rand.Rand, base time.Time, colls []string, items []stac.Item) search.Query {
	q := search.Query{Limit: []int{1, 3, 10, 50, 1000}[rng.IntN(5)]}
	switch rng.IntN(6) {
	case 0, 1:
		w, h := rng.Float64()*60, rng.Float64()*40
		x, y := rng.Float64()*360-180, rng.Float64()*160-80
		b := geo.BBox{MinX: x, MinY: y, MaxX: x + w, MaxY: min(y+h, 90)}
		if b.MaxX > 180 {
			b.MaxX -= 360 // crosses the antimeridian
		}
		q.BBox = &b
	case 2:
		// A box along an item's edge, or degenerate.
		it := items[rng.IntN(len(items))]
		b := it.BBox
		if rng.IntN(2) == 0 {
			b.MinX = b.MaxX
		}
		q.BBox = &b
	case 3:
		x, y := rng.Float64()*300-150, rng.Float64()*120-60
		r := rng.Float64() * 10
		poly, err := geom.UnmarshalWKT(fmt.Sprintf("POLYGON((%[1]g %[2]g,%[3]g %[2]g,%[1]g %[4]g,%[1]g %[2]g))", x, y, x+r, y+r))
		if err != nil {
			panic(err)
		}
		q.Intersects = &poly
	}
	if rng.IntN(2) == 0 {
		q.Collections = []string{colls[rng.IntN(len(colls))]}
		if rng.IntN(3) == 0 {
			q.Collections = append(q.Collections, colls[rng.IntN(len(colls))])
		}
	}
	if rng.IntN(6) == 0 {
		for range 1 + rng.IntN(5) {
			q.IDs = append(q.IDs, items[rng.IntN(len(items))].ID)
		}
	}
	if rng.IntN(2) == 0 {
		s := base.Add(time.Duration(rng.IntN(24*365*2)-24*180) * time.Hour)
		e := s.Add(time.Duration(rng.IntN(24*60)) * time.Hour)
		iv := search.Interval{Start: &s, End: &e}
		switch rng.IntN(4) {
		case 0:
			iv.Start = nil
		case 1:
			iv.End = nil
		case 2:
			iv.End = iv.Start // an instant
		}
		q.Datetime = &iv
	}
	return q
}

func walkAll(t *testing.T, s store.Store, q search.Query) []string {
	t.Helper()
	var seen []string
	for pages := 0; ; pages++ {
		if pages > 5000 {
			t.Fatal("pagination does not end")
		}
		page, err := s.Search(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", describe(q), err)
		}
		for _, r := range page.Items {
			seen = append(seen, r.Collection+"/"+r.ID)
		}
		if page.Next == "" {
			return seen
		}
		q.Token = page.Next
	}
}

func describe(q search.Query) string {
	s := fmt.Sprintf("limit=%d", q.Limit)
	if q.BBox != nil {
		s += fmt.Sprintf(" bbox=%v", q.BBox.Slice())
	}
	if q.Intersects != nil {
		s += " intersects=" + q.Intersects.AsText()
	}
	if q.Collections != nil {
		s += fmt.Sprintf(" collections=%q", q.Collections)
	}
	if q.IDs != nil {
		s += fmt.Sprintf(" ids=%q", q.IDs)
	}
	if iv := q.Datetime; iv != nil {
		s += fmt.Sprintf(" datetime=%v/%v", iv.Start, iv.End)
	}
	if q.Filter != nil {
		s += " filter=" + cql2.Text(q.Filter)
	}
	if q.SortBy != nil {
		s += fmt.Sprintf(" sortby=%v", q.SortBy)
	}
	if q.Q != nil {
		s += fmt.Sprintf(" q=%+v", *q.Q)
	}
	return s
}

func head(v []string) []string {
	if len(v) > 20 {
		return v[:20]
	}
	return v
}
