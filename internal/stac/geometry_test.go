package stac

import (
	"strings"
	"testing"
)

// TestDecodeGeometry pins what DecodeGeometry accepts and the reason it
// gives for what it refuses.
func TestDecodeGeometry(t *testing.T) {
	tests := []struct{ in, want string }{ // want: the type, or "error: <part of the message>"
		{`{"type":"Point","coordinates":[1,2]}`, "Point"},
		{`{"type":"Point","coordinates":[1,2,3]}`, "Point"},
		{`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`, "Polygon"},
		{`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[2,2],[3,2],[3,3],[2,2]]]]}`, "MultiPolygon"},
		{`{"type":"LineString","coordinates":[[0,0],[1,1]]}`, "LineString"},
		{`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}`, "GeometryCollection"},
		{`{"type":"Polygon","coordinates":[]}`, "Polygon"},
		{`{"type":"Polygon","coordinates":[[[0,0,5],[1,0,5],[1,1,5],[0,0,6]]]}`, "Polygon"},
		// Member names as encoding/json matches them: any case, escapes,
		// the last of duplicates.
		{`{"TYPE":"Point","coordinates":[1,2]}`, "Point"},
		{`{"typ\u0065":"Point","coordinates":[1,2]}`, "Point"},
		{`{"type":"Point","type":"LineString","coordinates":[[0,0],[1,1]]}`, "LineString"},
		{`{"type":"LineString","Type":"Point","coordinates":[1,2]}`, "Point"},
		{`{"type":"Poin\u0074","coordinates":[1,2]}`, "Point"},
		{` { "type" : "Point" , "coordinates" : [ 1 , 2 ] } `, "Point"},
		{`null`, "error: is required"},
		{``, "error: is required"},
		{`[1]`, "error: must be a GeoJSON geometry object"},
		{`{"type":5}`, "error: must be a GeoJSON geometry object: expected an object, got a number"},
		{`{"type":"Point",`, "error: must be a GeoJSON geometry object: unexpected end of JSON input"},
		{`{"coordinates":[1,2]}`, `error: must have a "type"`},
		{`{"type":"Feature"}`, "error: must be a GeoJSON geometry, not a Feature"},
		{`{"type":"Circle"}`, `error: unknown GeoJSON geometry type "Circle"`},
		{`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, "error: polygon ring is not closed"},
		{`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[2,2],[3,2],[3,3],[2,3]]]]}`, "error: polygon ring is not closed"},
		{`{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, "error: a polygon ring needs at least 4 positions, got 3"},
		{`{"type":"Polygon","coordinates":[[]]}`, "error: a polygon ring needs at least 4 positions, got 0"},
		{`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,0],[1,1],[0,0]]]}`, "error: duplicate consecutive positions at [1, 0]"},
		{`{"type":"Point","coordinates":[200,0]}`, "error: coordinates out of range"},
		{`{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`, "error: invalid Polygon"},
		{`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0]]]}`, "error: invalid geojson coordinate length: 1"},
		{`{"type":"Point","coordinates":[1]}`, "error: invalid geojson coordinate length: 1"},
	}
	for _, tc := range tests {
		g, err := DecodeGeometry([]byte(tc.in))
		got := g.Type().String()
		if err != nil {
			got = "error: " + err.Error()
		}
		if !strings.HasPrefix(got, tc.want) && !(strings.HasPrefix(tc.want, "error: ") && strings.Contains(got, strings.TrimPrefix(tc.want, "error: "))) {
			t.Errorf("DecodeGeometry(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}
