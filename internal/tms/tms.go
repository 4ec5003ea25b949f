package tms

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"
	"sync"
)

//go:embed data/*.json
var files embed.FS

// ErrNotFound: unknown tile matrix set or tile matrix.
var ErrNotFound = errors.New("tms: not found")

// TileMatrix is one zoom level.
type TileMatrix struct {
	ID               string     `json:"id"`
	ScaleDenominator float64    `json:"scaleDenominator"`
	CellSize         float64    `json:"cellSize"`
	CornerOfOrigin   string     `json:"cornerOfOrigin,omitempty"`
	PointOfOrigin    [2]float64 `json:"pointOfOrigin"`
	TileWidth        int        `json:"tileWidth"`
	TileHeight       int        `json:"tileHeight"`
	MatrixWidth      int        `json:"matrixWidth"`
	MatrixHeight     int        `json:"matrixHeight"`
}

// BoundingBox is a TMS 2.0 bounding box (CRS axis order).
type BoundingBox struct {
	LowerLeft  [2]float64 `json:"lowerLeft"`
	UpperRight [2]float64 `json:"upperRight"`
	CRS        string     `json:"crs,omitempty"`
}

// TileMatrixSet is an OGC TMS 2.0 tile matrix set.
type TileMatrixSet struct {
	ID                string       `json:"id"`
	Title             string       `json:"title,omitempty"`
	URI               string       `json:"uri,omitempty"`
	CRS               string       `json:"crs"`
	OrderedAxes       []string     `json:"orderedAxes,omitempty"`
	WellKnownScaleSet string       `json:"wellKnownScaleSet,omitempty"`
	BoundingBox       *BoundingBox `json:"boundingBox,omitempty"`
	TileMatrices      []TileMatrix `json:"tileMatrices"`

	yx  bool   // CRS axis order is northing/latitude first
	srs string // "EPSG:nnnn" for GDAL
}

// Tile addresses one tile.
type Tile struct{ Z, X, Y int }

func (t Tile) String() string { return fmt.Sprintf("%d/%d/%d", t.Z, t.X, t.Y) }

// Set is a registry of tile matrix sets. Definitions are parsed on first
// use: the 64 embedded documents (760 KB of JSON) took 5–10 ms to parse,
// which every process start paid before its first request.
type Set struct {
	byID map[string]func() (*TileMatrixSet, error)
	ids  []string
}

// Default returns the embedded definitions (data/<id>.json).
func Default() (*Set, error) {
	entries, err := files.ReadDir("data")
	if err != nil {
		return nil, err
	}
	s := &Set{byID: map[string]func() (*TileMatrixSet, error){}}
	for _, e := range entries {
		name := e.Name()
		id := strings.TrimSuffix(name, ".json")
		s.byID[id] = sync.OnceValues(func() (*TileMatrixSet, error) {
			b, err := files.ReadFile(path.Join("data", name))
			if err != nil {
				return nil, err
			}
			t, err := Parse(b)
			if err != nil {
				return nil, fmt.Errorf("tms: %s: %w", name, err)
			}
			if t.ID != id {
				return nil, fmt.Errorf("tms: %s holds id %q", name, t.ID)
			}
			return t, nil
		})
		s.ids = append(s.ids, id)
	}
	sort.Strings(s.ids)
	return s, nil
}

// Parse decodes and checks a TMS 2.0 JSON document.
func Parse(b []byte) (*TileMatrixSet, error) {
	var t TileMatrixSet
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, err
	}
	if t.ID == "" || len(t.TileMatrices) == 0 {
		return nil, errors.New("id and tileMatrices are required")
	}
	code, ok := epsgFromURI(t.CRS)
	if !ok {
		return nil, fmt.Errorf("unsupported crs %q", t.CRS)
	}
	t.srs = code
	if len(t.OrderedAxes) == 2 {
		a := strings.ToUpper(t.OrderedAxes[0])
		t.yx = a == "Y" || a == "LAT" || a == "N" || a == "NORTHING"
	}
	for i, m := range t.TileMatrices {
		if m.TileWidth <= 0 || m.TileHeight <= 0 || m.MatrixWidth <= 0 || m.MatrixHeight <= 0 || m.CellSize <= 0 {
			return nil, fmt.Errorf("tile matrix %d is invalid", i)
		}
	}
	return &t, nil
}

func epsgFromURI(u string) (string, bool) {
	switch {
	case strings.HasSuffix(u, "/OGC/1.3/CRS84"), u == "OGC:CRS84":
		return "EPSG:4326", true
	case strings.Contains(u, "/EPSG/0/"):
		return "EPSG:" + u[strings.LastIndex(u, "/")+1:], true
	case strings.HasPrefix(u, "EPSG:"):
		return u, true
	}
	return "", false
}

// Get returns a tile matrix set by id (case-sensitive, as OGC ids are).
func (s *Set) Get(id string) (*TileMatrixSet, error) {
	load, ok := s.byID[id]
	if !ok {
		return nil, fmt.Errorf("%w: tile matrix set %q", ErrNotFound, id)
	}
	return load()
}

// IDs lists the ids in sorted order.
func (s *Set) IDs() []string { return append([]string(nil), s.ids...) }

// SRS returns the CRS as GDAL understands it ("EPSG:3857"), with GIS
// (x/y) axis order.
func (t *TileMatrixSet) SRS() string { return t.srs }

// EPSG returns the numeric EPSG code.
func (t *TileMatrixSet) EPSG() int {
	var n int
	fmt.Sscan(strings.TrimPrefix(t.srs, "EPSG:"), &n)
	return n
}

// YX reports whether the CRS axis order is northing/latitude first.
func (t *TileMatrixSet) YX() bool { return t.yx }

// MinZoom and MaxZoom are the first and last matrix indexes.
func (t *TileMatrixSet) MinZoom() int { return 0 }

// MaxZoom is the last matrix index.
func (t *TileMatrixSet) MaxZoom() int { return len(t.TileMatrices) - 1 }

// Matrix returns the tile matrix at zoom z.
func (t *TileMatrixSet) Matrix(z int) (TileMatrix, error) {
	if z < 0 || z >= len(t.TileMatrices) {
		return TileMatrix{}, fmt.Errorf("%w: zoom %d of %s (0..%d)", ErrNotFound, z, t.ID, len(t.TileMatrices)-1)
	}
	return t.TileMatrices[z], nil
}

// origin returns the top-left corner in x/y order.
func (t *TileMatrixSet) origin(m TileMatrix) (float64, float64) {
	if t.yx {
		return m.PointOfOrigin[1], m.PointOfOrigin[0]
	}
	return m.PointOfOrigin[0], m.PointOfOrigin[1]
}

// Valid reports whether the tile exists in the set.
func (t *TileMatrixSet) Valid(tile Tile) error {
	m, err := t.Matrix(tile.Z)
	if err != nil {
		return err
	}
	if tile.X < 0 || tile.Y < 0 || tile.X >= m.MatrixWidth || tile.Y >= m.MatrixHeight {
		return fmt.Errorf("%w: tile %s outside the %s matrix (%dx%d)", ErrNotFound, tile, t.ID, m.MatrixWidth, m.MatrixHeight)
	}
	return nil
}

// Bounds returns the tile's bounds in the set's CRS, x/y order.
func (t *TileMatrixSet) Bounds(tile Tile) ([4]float64, error) {
	if err := t.Valid(tile); err != nil {
		return [4]float64{}, err
	}
	m := t.TileMatrices[tile.Z]
	ox, oy := t.origin(m)
	w := m.CellSize * float64(m.TileWidth)
	h := m.CellSize * float64(m.TileHeight)
	minx := ox + float64(tile.X)*w
	maxy := oy - float64(tile.Y)*h
	return [4]float64{minx, maxy - h, minx + w, maxy}, nil
}

// Extent returns the set's bounding box in x/y order.
func (t *TileMatrixSet) Extent() [4]float64 {
	if t.BoundingBox != nil {
		ll, ur := t.BoundingBox.LowerLeft, t.BoundingBox.UpperRight
		if t.yx {
			return [4]float64{ll[1], ll[0], ur[1], ur[0]}
		}
		return [4]float64{ll[0], ll[1], ur[0], ur[1]}
	}
	m := t.TileMatrices[0]
	ox, oy := t.origin(m)
	return [4]float64{ox, oy - m.CellSize*float64(m.TileHeight*m.MatrixHeight), ox + m.CellSize*float64(m.TileWidth*m.MatrixWidth), oy}
}

// Range is an inclusive range of tile columns and rows at one zoom.
type Range struct {
	Z          int
	MinX, MaxX int
	MinY, MaxY int
}

// TileRange returns the tiles at zoom z that intersect b (x/y order, CRS
// units), clamped to the matrix.
func (t *TileMatrixSet) TileRange(z int, b [4]float64) (Range, error) {
	m, err := t.Matrix(z)
	if err != nil {
		return Range{}, err
	}
	ox, oy := t.origin(m)
	w := m.CellSize * float64(m.TileWidth)
	h := m.CellSize * float64(m.TileHeight)
	const eps = 1e-9
	clamp := func(v, hi int) int { return max(0, min(v, hi)) }
	r := Range{Z: z,
		MinX: clamp(int(math.Floor((b[0]-ox)/w+eps)), m.MatrixWidth-1),
		MaxX: clamp(int(math.Ceil((b[2]-ox)/w-eps))-1, m.MatrixWidth-1),
		MinY: clamp(int(math.Floor((oy-b[3])/h+eps)), m.MatrixHeight-1),
		MaxY: clamp(int(math.Ceil((oy-b[1])/h-eps))-1, m.MatrixHeight-1),
	}
	if r.MaxX < r.MinX {
		r.MaxX = r.MinX
	}
	if r.MaxY < r.MinY {
		r.MaxY = r.MinY
	}
	return r, nil
}

// ZoomForResolution returns the first zoom whose cell size is at most res
// (CRS units per pixel), i.e. the zoom that shows res without losing detail.
func (t *TileMatrixSet) ZoomForResolution(res float64) int {
	for z, m := range t.TileMatrices {
		if m.CellSize <= res*(1+1e-6) {
			return z
		}
	}
	return len(t.TileMatrices) - 1
}
