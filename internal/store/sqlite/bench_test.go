package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/store"
	"github.com/tessera-geo/tessera/internal/store/sqlite"
	"github.com/tessera-geo/tessera/internal/synth"
)

func BenchmarkPutItems(b *testing.B) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "c.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	g := synth.New(synth.Options{Seed: 1})
	c, _ := stac.DecodeCollection(g.Collection(), stac.DecodeOptions{})
	if err := db.PutCollection(ctx, c, store.Upsert); err != nil {
		b.Fatal(err)
	}
	const batch = 5000
	items := make([]stac.Item, 0, batch)
	for range batch * 4 {
		it, err := stac.DecodeItem(g.Next(), stac.DecodeOptions{})
		if err != nil {
			b.Fatal(err)
		}
		items = append(items, it)
	}
	b.ResetTimer()
	n := 0
	for i := 0; b.Loop(); i++ {
		chunk := items[(i%4)*batch : (i%4+1)*batch]
		if _, err := db.PutItems(ctx, chunk, store.Upsert); err != nil {
			b.Fatal(err)
		}
		n += batch
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "items/s")
}
