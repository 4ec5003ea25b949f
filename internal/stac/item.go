package stac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/geo"
)

// Item is a validated, normalised STAC Item: the fields the catalog indexes
// plus the canonical document.
type Item struct {
	ID         string
	Collection string
	Geometry   geom.Geometry
	BBox       geo.BBox
	// Datetime is properties.datetime; nil when it is null (then Start and
	// End come from start_datetime and end_datetime).
	Datetime *time.Time
	// Start and End are the item's effective time interval: both equal
	// Datetime when it is set.
	Start, End time.Time
	// Doc is the canonical JSON document (hierarchy links removed, "links"
	// last; see AppendLinks).
	Doc []byte
}

// TimeFormat is how tessera writes the timestamps it sets.
const TimeFormat = "2006-01-02T15:04:05.000000Z"

// hierarchyRels are the link relations the catalog generates itself; stored
// copies would be wrong as soon as the catalog is served from another URL.
var hierarchyRels = map[string]bool{"self": true, "root": true, "parent": true, "collection": true, "items": true}

// DecodeOptions tune the write path.
type DecodeOptions struct {
	// Now is the time written into properties.updated (and into
	// properties.created when absent). Zero leaves both untouched.
	Now time.Time
}

// DecodeItem parses, validates and normalises one STAC Item. The error is a
// *ValidationError naming the bad member.
func DecodeItem(raw []byte, opts DecodeOptions) (Item, error) {
	var obj object
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Item{}, &ValidationError{Reason: "not a JSON object: " + jsonErr(err)}
	}
	var it Item
	if t := str(obj["type"]); t != "Feature" {
		return Item{}, invalid("type", `must be "Feature", got %s`, show(obj["type"]))
	}
	if _, ok := obj["stac_version"]; !ok {
		return Item{}, invalid("stac_version", "is required")
	} else if str(obj["stac_version"]) == "" {
		return Item{}, invalid("stac_version", "must be a non-empty string")
	}
	if err := json.Unmarshal(obj["id"], &it.ID); err != nil || it.ID == "" {
		return Item{}, invalid("id", "must be a non-empty string")
	}
	if c, ok := obj["collection"]; ok && !isNull(c) {
		if err := json.Unmarshal(c, &it.Collection); err != nil || it.Collection == "" {
			return Item{}, invalid("collection", "must be a non-empty string")
		}
	}
	g, err := DecodeGeometry(obj["geometry"])
	if err != nil {
		return Item{}, invalid("geometry", "%v", err)
	}
	it.Geometry = g
	env, ok := geo.EnvelopeBBox(g)
	if !ok {
		return Item{}, invalid("geometry", "must not be empty")
	}
	if b, ok := obj["bbox"]; ok && !isNull(b) {
		var v []float64
		if err := json.Unmarshal(b, &v); err != nil {
			return Item{}, invalid("bbox", "must be an array of numbers")
		}
		bb, err := geo.BBoxFromSlice(v)
		if err != nil {
			return Item{}, invalid("bbox", "%v", err)
		}
		if !bb.CrossesAntimeridian() && !bboxContains(bb, env) {
			return Item{}, invalid("bbox", "does not contain the geometry (geometry bounds are %v)", env.Slice())
		}
		it.BBox = bb
	} else {
		it.BBox = env
		obj["bbox"], _ = json.Marshal(env.Slice())
	}
	if err := it.decodeProperties(obj, opts); err != nil {
		return Item{}, err
	}
	if a, ok := obj["assets"]; !ok || isNull(a) {
		obj["assets"] = json.RawMessage("{}")
	} else if !isObject(a) {
		return Item{}, invalid("assets", "must be an object")
	}
	links, err := stripHierarchyLinks(obj["links"])
	if err != nil {
		return Item{}, err
	}
	for _, k := range []string{"geometry", "properties", "assets"} {
		obj[k] = compact(obj[k])
	}
	it.Doc = encodeCanonical(obj, itemKeyOrder, links)
	return it, nil
}

// bboxContains allows a small tolerance: bboxes are often rounded.
func bboxContains(b, env geo.BBox) bool {
	const eps = 1e-6
	return b.MinX-eps <= env.MinX && env.MaxX <= b.MaxX+eps && b.MinY-eps <= env.MinY && env.MaxY <= b.MaxY+eps
}

func (it *Item) decodeProperties(obj object, opts DecodeOptions) error {
	var props object
	if err := json.Unmarshal(obj["properties"], &props); err != nil || props == nil {
		return invalid("properties", "must be an object")
	}
	dt, err := optTime(props, "datetime")
	if err != nil {
		return err
	}
	start, err := optTime(props, "start_datetime")
	if err != nil {
		return err
	}
	end, err := optTime(props, "end_datetime")
	if err != nil {
		return err
	}
	switch {
	case dt != nil:
		it.Datetime = dt
		it.Start, it.End = *dt, *dt
		if start != nil && end != nil && !start.After(*end) {
			// A range with a nominal datetime: search by the range.
			it.Start, it.End = *start, *end
		}
	case start != nil && end != nil:
		it.Start, it.End = *start, *end
	default:
		if _, ok := props["datetime"]; !ok {
			return invalid("properties.datetime", "is required (null is allowed only with start_datetime and end_datetime)")
		}
		return invalid("properties.datetime", "is null, so properties.start_datetime and properties.end_datetime are required")
	}
	if it.Start.After(it.End) {
		return invalid("properties.start_datetime", "is after properties.end_datetime")
	}
	if !opts.Now.IsZero() {
		now, _ := json.Marshal(opts.Now.UTC().Format(TimeFormat))
		if c, ok := props["created"]; !ok || isNull(c) {
			props["created"] = now
		}
		props["updated"] = now
	}
	obj["properties"] = marshalObject(props)
	return nil
}

func optTime(props object, key string) (*time.Time, error) {
	v, ok := props[key]
	if !ok || isNull(v) {
		return nil, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return nil, invalid("properties."+key, "must be an RFC 3339 string or null")
	}
	t, err := ParseTime(s)
	if err != nil {
		return nil, invalid("properties."+key, "%v", err)
	}
	return &t, nil
}

// ParseTime parses an RFC 3339 timestamp (any offset; lower-case t and z
// allowed) and returns it in UTC.
func ParseTime(s string) (time.Time, error) {
	b := []byte(s)
	for i, c := range b {
		if c == 't' || c == 'z' {
			b[i] = c - 32
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp", s)
	}
	return t.UTC(), nil
}

// DecodeGeometry parses a GeoJSON geometry and checks it: the type and
// coordinates must be well formed, rings closed and without duplicate
// consecutive points, polygons free of self-intersections, and coordinates
// within CRS84 bounds. Ring winding is not enforced (RFC 7946 §3.1.6 tells
// parsers not to reject either winding).
func DecodeGeometry(raw json.RawMessage) (geom.Geometry, error) {
	if len(raw) == 0 || isNull(raw) {
		return geom.Geometry{}, errors.New("is required (null geometries are not supported)")
	}
	if !isObject(raw) {
		return geom.Geometry{}, errors.New("must be a GeoJSON geometry object")
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &head); err != nil {
		return geom.Geometry{}, fmt.Errorf("must be a GeoJSON geometry object: %s", jsonErr(err))
	}
	switch head.Type {
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection":
	case "Feature", "FeatureCollection":
		return geom.Geometry{}, fmt.Errorf("must be a GeoJSON geometry, not a %s", head.Type)
	case "":
		return geom.Geometry{}, errors.New(`must have a "type"`)
	default:
		return geom.Geometry{}, fmt.Errorf("unknown GeoJSON geometry type %q", head.Type)
	}
	g, err := geom.UnmarshalGeoJSON(raw, geom.NoValidate{})
	if err != nil {
		return geom.Geometry{}, err
	}
	if err := checkDuplicatePoints(g); err != nil {
		return geom.Geometry{}, err
	}
	if err := checkUnclosed(raw, head.Type); err != nil {
		return geom.Geometry{}, err
	}
	if err := g.Validate(); err != nil {
		return geom.Geometry{}, fmt.Errorf("invalid %s: %v", head.Type, err)
	}
	if b, ok := geo.EnvelopeBBox(g); ok {
		if err := b.Validate(); err != nil {
			return geom.Geometry{}, fmt.Errorf("coordinates out of range: %v", err)
		}
	}
	return g.Force2D(), nil
}

// checkUnclosed reports polygon rings whose first and last positions differ:
// simplefeatures would otherwise report them as generic invalid rings.
func checkUnclosed(raw json.RawMessage, typ string) error {
	var polys [][][][]float64
	switch typ {
	case "Polygon":
		var c struct{ Coordinates [][][]float64 }
		if json.Unmarshal(raw, &c) != nil {
			return nil
		}
		polys = [][][][]float64{c.Coordinates}
	case "MultiPolygon":
		var c struct{ Coordinates [][][][]float64 }
		if json.Unmarshal(raw, &c) != nil {
			return nil
		}
		polys = c.Coordinates
	default:
		return nil
	}
	for _, p := range polys {
		for _, r := range p {
			if len(r) < 4 {
				return fmt.Errorf("a polygon ring needs at least 4 positions, got %d", len(r))
			}
			first, last := r[0], r[len(r)-1]
			if len(first) < 2 || len(last) < 2 || first[0] != last[0] || first[1] != last[1] {
				return errors.New("polygon ring is not closed (first and last positions differ)")
			}
		}
	}
	return nil
}

func checkDuplicatePoints(g geom.Geometry) error {
	check := func(seq geom.Sequence) error {
		for i := 1; i < seq.Length(); i++ {
			if seq.GetXY(i) == seq.GetXY(i-1) {
				p := seq.GetXY(i)
				return fmt.Errorf("duplicate consecutive positions at [%g, %g]", p.X, p.Y)
			}
		}
		return nil
	}
	for _, part := range g.Dump() {
		switch part.Type() {
		case geom.TypeLineString:
			if err := check(part.MustAsLineString().Coordinates()); err != nil {
				return err
			}
		case geom.TypePolygon:
			p := part.MustAsPolygon()
			if err := check(p.ExteriorRing().Coordinates()); err != nil {
				return err
			}
			for i := 0; i < p.NumInteriorRings(); i++ {
				if err := check(p.InteriorRingN(i).Coordinates()); err != nil {
					return err
				}
			}
		case geom.TypePoint:
			if xy, ok := part.MustAsPoint().XY(); ok && (math.IsNaN(xy.X) || math.IsNaN(xy.Y)) {
				return errors.New("coordinates must be numbers")
			}
		}
	}
	return nil
}

// stripHierarchyLinks validates the links array and drops the relations
// the catalog generates.
func stripHierarchyLinks(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || isNull(raw) {
		return json.RawMessage("[]"), nil
	}
	var links []object
	if err := json.Unmarshal(raw, &links); err != nil {
		return nil, invalid("links", "must be an array of link objects")
	}
	kept := make([]json.RawMessage, 0, len(links))
	for i, l := range links {
		if l == nil {
			return nil, invalid(fmt.Sprintf("links[%d]", i), "must be an object")
		}
		if str(l["href"]) == "" {
			return nil, invalid(fmt.Sprintf("links[%d].href", i), "is required")
		}
		if hierarchyRels[str(l["rel"])] {
			continue
		}
		kept = append(kept, marshalObject(l))
	}
	b, _ := json.Marshal(kept)
	return b, nil
}

func marshalObject(o object) json.RawMessage {
	b, _ := json.Marshal(o)
	return b
}

func str(v json.RawMessage) string {
	var s string
	_ = json.Unmarshal(v, &s)
	return s
}

func show(v json.RawMessage) string {
	if len(v) == 0 {
		return "nothing"
	}
	if len(v) > 40 {
		return string(v[:40]) + "..."
	}
	return string(v)
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("expected an object, got a %s", te.Value)
	}
	return err.Error()
}
