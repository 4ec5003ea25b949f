package stac

import (
	"bytes"
	"testing"

	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/synth"
)

var geojsonCases = []string{
	`{"type":"Point","coordinates":[1,2]}`,
	`{"type":"Point","coordinates":[1.5e2,-2,3]}`,
	` { "coordinates" : [ 1 , 2 ] , "type" : "Point" , "bbox":[1,2,1,2] } `,
	`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]],[[0.1,0.1],[0.2,0.1],[0.2,0.2],[0.1,0.1]]]}`,
	`{"type":"Polygon","coordinates":[[[0,0,1],[1,0,1],[1,1,1],[0,0,1]]]}`,
	`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[2,2],[3,2],[3,3],[2,2]]]]}`,
	`{"type":"Point","coordinates":[1,2],"coordinates":[3,4]}`, // the last wins, as in encoding/json
	// Not taken by the fast path: simplefeatures decides.
	`{"type":"Polygon","coordinates":[[[0,0],[1,0,5],[1,1],[0,0]]]}`,
	`{"type":"Polygon","coordinates":[]}`,
	`{"type":"Polygon","coordinates":[[]]}`,
	`{"type":"Point","coordinates":[1,2,3,4]}`,
	`{"type":"Point","coordinates":[1]}`,
	`{"type":"Point","coordinates":[1e400,2]}`,
	`{"type":"Point","Coordinates":[1,2]}`,
	`{"typ\u0065":"Point","coordinates":[1,2]}`,
	`{"type":"LineString","coordinates":[[0,0],[1,1]]}`,
	`{"type":"Point","coordinates":[1,"2"]}`,
	`{"type":"Point","coordinates":[1,2]`,
	`{"type":"Point","coordinates":[-,2]}`,
	`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]`,
}

// TestFastGeoJSON checks the fast path against simplefeatures on the cases
// above and on synthetic items' footprints, and that it takes the common
// shapes.
func TestFastGeoJSON(t *testing.T) {
	for i, c := range geojsonCases {
		_, ok := checkFastGeoJSON(t, []byte(c))
		if want := i < 7; ok != want {
			t.Errorf("fastGeoJSON(%s): ok = %v, want %v", c, ok, want)
		}
	}
	g := synth.New(synth.Options{Seed: 9})
	for range 200 {
		ms, err := members(g.Next(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := checkFastGeoJSON(t, lookup(ms, "geometry")); !ok {
			t.Fatalf("a synthetic footprint took the slow path: %s", lookup(ms, "geometry"))
		}
	}
}

// fastGeoJSON is DecodeGeometry's way around simplefeatures.
func fastGeoJSON(raw []byte) (geom.Geometry, bool) {
	typ, coords, plain := geoJSONHead(raw)
	if !plain {
		return geom.Geometry{}, false
	}
	return geoJSONCoordinates(typ, coords)
}

// checkFastGeoJSON fails t when fastGeoJSON decodes raw and simplefeatures
// does not, or to a different geometry.
func checkFastGeoJSON(t *testing.T, raw []byte) (geom.Geometry, bool) {
	t.Helper()
	got, ok := fastGeoJSON(raw)
	if !ok {
		return got, false
	}
	want, err := geom.UnmarshalGeoJSON(raw, geom.NoValidate{})
	if err != nil {
		t.Fatalf("fastGeoJSON(%s) decoded what simplefeatures refuses (%v)", raw, err)
	}
	if got.Type() != want.Type() || got.CoordinatesType() != want.CoordinatesType() || !bytes.Equal(got.AsBinary(), want.AsBinary()) {
		t.Fatalf("fastGeoJSON(%s) = %s %v, simplefeatures %s %v", raw, got.AsText(), got.CoordinatesType(), want.AsText(), want.CoordinatesType())
	}
	return got, true
}

func FuzzFastGeoJSON(f *testing.F) {
	for _, c := range geojsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkFastGeoJSON(t, b)
	})
}
