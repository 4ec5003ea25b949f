package stac_test

import (
	"testing"

	"github.com/tessera-geo/tessera/internal/stac"
	"github.com/tessera-geo/tessera/internal/synth"
)

func BenchmarkDecodeItem(b *testing.B) {
	g := synth.New(synth.Options{Seed: 1})
	docs := make([][]byte, 1000)
	size := 0
	for i := range docs {
		docs[i] = g.Next()
		size += len(docs[i])
	}
	b.SetBytes(int64(size / len(docs)))
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := stac.DecodeItem(docs[i%len(docs)], stac.DecodeOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
