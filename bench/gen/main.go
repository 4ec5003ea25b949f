// Command gen writes deterministic synthetic Sentinel-2-like STAC items as
// newline-delimited JSON: the collection first, then the items. The output
// loads with `tessera load`.
//
//	go run ./bench/gen -n 1000000 -seed 1 > items.ndjson
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"github.com/tessera-geo/tessera/internal/synth"
)

func main() {
	n := flag.Int("n", 1000, "number of items")
	seed := flag.Uint64("seed", 1, "random seed (same seed, same items)")
	coll := flag.String("collection", "sentinel-2-synthetic", "collection id")
	rasters := flag.String("rasters", "", "instead: write demo terrain rasters into this directory and print their collection and items")
	flag.Parse()
	if *rasters != "" {
		docs, err := synth.DemoRasters(*rasters)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		for _, d := range docs {
			os.Stdout.Write(append(d, '\n'))
		}
		return
	}
	g := synth.New(synth.Options{Collection: *coll, Seed: *seed})
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	w.Write(g.Collection())
	w.WriteByte('\n')
	for i := 0; i < *n; i++ {
		w.Write(g.Next())
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
