//go:build ignore

// gen writes the embedded TileMatrixSet definitions (OGC TMS 2.0 JSON) in
// data/. Run: go run gen.go
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
)

type matrix struct {
	ID               string     `json:"id"`
	ScaleDenominator float64    `json:"scaleDenominator"`
	CellSize         float64    `json:"cellSize"`
	CornerOfOrigin   string     `json:"cornerOfOrigin"`
	PointOfOrigin    [2]float64 `json:"pointOfOrigin"`
	TileWidth        int        `json:"tileWidth"`
	TileHeight       int        `json:"tileHeight"`
	MatrixWidth      int        `json:"matrixWidth"`
	MatrixHeight     int        `json:"matrixHeight"`
}

type bbox struct {
	LowerLeft  [2]float64 `json:"lowerLeft"`
	UpperRight [2]float64 `json:"upperRight"`
	CRS        string     `json:"crs"`
}

type tms struct {
	ID           string   `json:"id"`
	Title        string   `json:"title"`
	URI          string   `json:"uri,omitempty"`
	CRS          string   `json:"crs"`
	OrderedAxes  []string `json:"orderedAxes"`
	WellKnown    string   `json:"wellKnownScaleSet,omitempty"`
	BoundingBox  bbox     `json:"boundingBox"`
	TileMatrices []matrix `json:"tileMatrices"`
}

// metersPerUnit converts CRS units to metres for the scale denominator
// (0.28 mm pixels).
func build(id, title, uri, crs string, axes []string, yx bool, minx, miny, maxx, maxy float64, w0, h0 int, cell0, mpu float64, maxZoom int) tms {
	t := tms{ID: id, Title: title, URI: uri, CRS: crs, OrderedAxes: axes}
	ll, ur := [2]float64{minx, miny}, [2]float64{maxx, maxy}
	origin := [2]float64{minx, maxy}
	if yx {
		ll, ur = [2]float64{miny, minx}, [2]float64{maxy, maxx}
		origin = [2]float64{maxy, minx}
	}
	t.BoundingBox = bbox{LowerLeft: ll, UpperRight: ur, CRS: crs}
	for z := 0; z <= maxZoom; z++ {
		f := math.Pow(2, float64(z))
		cell := cell0 / f
		t.TileMatrices = append(t.TileMatrices, matrix{
			ID: fmt.Sprint(z), ScaleDenominator: cell * mpu / 0.00028, CellSize: cell, CornerOfOrigin: "topLeft",
			PointOfOrigin: origin, TileWidth: 256, TileHeight: 256, MatrixWidth: w0 * int(f), MatrixHeight: h0 * int(f),
		})
	}
	return t
}

func main() {
	const r = 6378137.0
	half := math.Pi * r
	deg := 2 * math.Pi * r / 360 // metres per degree at the equator
	sets := []tms{
		build("WebMercatorQuad", "Google Maps Compatible for the World", "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
			"http://www.opengis.net/def/crs/EPSG/0/3857", []string{"X", "Y"}, false, -half, -half, half, half, 1, 1, 2*half/256, 1, 24),
		build("WorldCRS84Quad", "CRS84 for the World", "http://www.opengis.net/def/tilematrixset/OGC/1.0/WorldCRS84Quad",
			"http://www.opengis.net/def/crs/OGC/1.3/CRS84", []string{"Lon", "Lat"}, false, -180, -90, 180, 90, 2, 1, 180.0/256, deg, 18),
		build("WGS1984Quad", "EPSG:4326 for the World", "http://www.opengis.net/def/tilematrixset/OGC/1.0/WGS1984Quad",
			"http://www.opengis.net/def/crs/EPSG/0/4326", []string{"Lat", "Lon"}, true, -180, -90, 180, 90, 2, 1, 180.0/256, deg, 18),
		build("EuropeanETRS89_LAEAQuad", "LAEA Europe (ETRS89-extended / LAEA Europe)", "http://www.opengis.net/def/tilematrixset/OGC/1.0/EuropeanETRS89_LAEAQuad",
			"http://www.opengis.net/def/crs/EPSG/0/3035", []string{"Y", "X"}, true, 2000000, 1000000, 6500000, 5500000, 1, 1, 4500000.0/256, 1, 16),
	}
	// UTM zones 1..60 north, on a grid whose origin is shared by all zones.
	for zone := 1; zone <= 60; zone++ {
		const minx, maxy = -9501965.72931276, 20003931.4586255
		span := 20003931.4586255
		sets = append(sets, build(fmt.Sprintf("UTM%02dWGS84Quad", zone), fmt.Sprintf("Universal Transverse Mercator zone %dN (WGS84)", zone), "",
			fmt.Sprintf("http://www.opengis.net/def/crs/EPSG/0/%d", 32600+zone), []string{"E", "N"}, false,
			minx, maxy-2*span, minx+span, maxy, 1, 2, span/256, 1, 24))
	}
	for _, t := range sets {
		b, _ := json.MarshalIndent(t, "", "  ")
		if err := os.WriteFile("data/"+t.ID+".json", append(b, '\n'), 0o644); err != nil {
			panic(err)
		}
	}
}
