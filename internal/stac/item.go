package stac

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

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
	// RawProperties is the properties object as it stands in Doc (it
	// aliases Doc), so that writers need not look for it.
	RawProperties json.RawMessage
	// Properties lists the item's property names with their JSON types
	// ("string", "number", "boolean", "array", "object"; null values are
	// left out), for queryables.
	Properties []Property
}

// Property is a property name and its JSON type.
type Property struct {
	Name, Type string
	// Value is the raw JSON value (it aliases the decoded document).
	Value json.RawMessage
}

// jsonType names the JSON type of a raw value by its first byte.
func jsonType(v []byte) string {
	if len(v) == 0 {
		return ""
	}
	switch v[0] {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case '[':
		return "array"
	case '{':
		return "object"
	case 'n':
		return ""
	default:
		return "number"
	}
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
//
// The document is validated once and its top-level members are located
// without decoding them; the canonical document is rebuilt from the
// original bytes, so large members (assets) are copied, never re-encoded.
func DecodeItem(raw []byte, opts DecodeOptions) (Item, error) {
	doc, ms, err := topLevel(raw)
	if err != nil {
		return Item{}, err
	}
	return decodeItem(doc, ms, opts)
}

// Document is a decoded item or collection.
type Document struct {
	Item       *Item
	Collection *Collection
}

// Decode decodes an Item or a Collection, whichever raw is.
func Decode(raw []byte, opts DecodeOptions) (Document, error) {
	doc, ms, err := topLevel(raw)
	if err != nil {
		return Document{}, err
	}
	switch t := str(lookup(ms, "type")); t {
	case "Feature":
		it, err := decodeItem(doc, ms, opts)
		if err != nil {
			return Document{}, err
		}
		return Document{Item: &it}, nil
	case "Collection":
		c, err := DecodeCollection(doc, opts)
		if err != nil {
			return Document{}, err
		}
		return Document{Collection: &c}, nil
	default:
		return Document{}, invalid("type", `must be "Feature" or "Collection", got %s`, show(lookup(ms, "type")))
	}
}

func decodeItem(doc []byte, ms []member, opts DecodeOptions) (Item, error) {
	get := func(k string) json.RawMessage { return lookup(ms, k) }
	var it Item
	if t := str(get("type")); t != "Feature" {
		return Item{}, invalid("type", `must be "Feature", got %s`, show(get("type")))
	}
	if v := get("stac_version"); v == nil {
		return Item{}, invalid("stac_version", "is required")
	} else if str(v) == "" {
		return Item{}, invalid("stac_version", "must be a non-empty string")
	}
	id, ok := unquote(get("id"))
	if !ok || id == "" {
		return Item{}, invalid("id", "must be a non-empty string")
	}
	it.ID = id
	if c := get("collection"); c != nil && !isNull(c) {
		coll, ok := unquote(c)
		if !ok || coll == "" {
			return Item{}, invalid("collection", "must be a non-empty string")
		}
		it.Collection = coll
	}
	g, err := DecodeGeometry(get("geometry"))
	if err != nil {
		return Item{}, invalid("geometry", "%v", err)
	}
	it.Geometry = g
	env, ok := geo.EnvelopeBBox(g)
	if !ok {
		return Item{}, invalid("geometry", "must not be empty")
	}
	bbox := get("bbox")
	if bbox != nil && !isNull(bbox) {
		var v []float64
		if err := json.Unmarshal(bbox, &v); err != nil {
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
		bbox, _ = json.Marshal(env.Slice())
	}
	props, err := it.decodeProperties(get("properties"), opts)
	if err != nil {
		return Item{}, err
	}
	assets := get("assets")
	if assets == nil || isNull(assets) {
		assets = json.RawMessage("{}")
	} else if assets[0] != '{' {
		return Item{}, invalid("assets", "must be an object")
	}
	links, err := stripHierarchyLinks(get("links"))
	if err != nil {
		return Item{}, err
	}
	replaced := map[string]json.RawMessage{"bbox": bbox, "properties": props, "assets": assets}
	it.Doc, it.RawProperties = assemble(len(doc)+len(props)+len(bbox), ms, itemKeyOrder, replaced, links, "properties")
	return it, nil
}

// topLevel validates raw as one JSON object and lists its members. Pretty
// printed input is compacted first.
func topLevel(raw []byte) ([]byte, []member, error) {
	pretty := bytes.IndexByte(raw, '\n') >= 0 || bytes.Contains(raw, []byte(": "))
	if !pretty {
		if ms, ok := objectMembers(raw, make([]member, 0, 16)); ok {
			return raw, ms, nil
		}
	}
	// Pretty printed, invalid, or not an object.
	if !validJSON(raw) {
		var v any
		err := json.Unmarshal(raw, &v)
		if err == nil {
			err = errors.New("invalid JSON")
		}
		return nil, nil, &ValidationError{Reason: "not a JSON object: " + jsonErr(err)}
	}
	doc := raw
	if pretty {
		var buf bytes.Buffer
		buf.Grow(len(raw))
		if err := json.Compact(&buf, raw); err == nil {
			doc = buf.Bytes()
		}
	}
	ms, err := members(doc, make([]member, 0, 16))
	if err != nil {
		return nil, nil, &ValidationError{Reason: "not a JSON object"}
	}
	return doc, ms, nil
}

// lookup returns the value of key (the last one, as encoding/json does).
func lookup(ms []member, key string) json.RawMessage {
	for i := len(ms) - 1; i >= 0; i-- {
		if ms[i].key == key {
			return ms[i].value
		}
	}
	return nil
}

// assemble writes a canonical document from members: the leading keys in
// order, the others sorted, "links" last. replaced overrides (or adds)
// member values. marked is the value of member mark as written in doc.
func assemble(size int, ms []member, leading []string, replaced map[string]json.RawMessage, links json.RawMessage, mark string) (doc, marked []byte) {
	buf := make([]byte, 0, size+len(links)+64)
	buf = append(buf, '{')
	first := true
	var from, to int
	write := func(k string, v []byte) {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = append(buf, '"')
		buf = append(buf, k...)
		buf = append(buf, '"', ':')
		if k == mark {
			from, to = len(buf), len(buf)+len(v)
		}
		buf = append(buf, v...)
	}
	value := func(k string) []byte {
		if v, ok := replaced[k]; ok {
			return v
		}
		return lookup(ms, k)
	}
	isLeading := func(k string) bool {
		for _, l := range leading {
			if l == k {
				return true
			}
		}
		return k == "links"
	}
	for _, k := range leading {
		if v := value(k); v != nil {
			write(k, v)
		}
	}
	rest := make([]string, 0, len(ms))
	for _, m := range ms {
		if !isLeading(m.key) && lookup(ms, m.key) != nil && !slices.Contains(rest, m.key) {
			rest = append(rest, m.key)
		}
	}
	sort.Strings(rest)
	for _, k := range rest {
		write(k, value(k))
	}
	write("links", links)
	buf = append(buf, '}')
	return buf, buf[from:to:to]
}

// bboxContains allows a small tolerance: bboxes are often rounded.
func bboxContains(b, env geo.BBox) bool {
	const eps = 1e-6
	return b.MinX-eps <= env.MinX && env.MaxX <= b.MaxX+eps && b.MinY-eps <= env.MinY && env.MaxY <= b.MaxY+eps
}

// decodeProperties reads the item's times and returns the properties
// object with created/updated maintained.
func (it *Item) decodeProperties(raw json.RawMessage, opts DecodeOptions) (json.RawMessage, error) {
	if len(raw) == 0 || raw[0] != '{' {
		return nil, invalid("properties", "must be an object")
	}
	ms, err := members(raw, make([]member, 0, 32))
	if err != nil {
		return nil, invalid("properties", "must be an object")
	}
	dt, err := optTime(lookup(ms, "datetime"), "datetime")
	if err != nil {
		return nil, err
	}
	start, err := optTime(lookup(ms, "start_datetime"), "start_datetime")
	if err != nil {
		return nil, err
	}
	end, err := optTime(lookup(ms, "end_datetime"), "end_datetime")
	if err != nil {
		return nil, err
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
		if lookup(ms, "datetime") == nil {
			return nil, invalid("properties.datetime", "is required (null is allowed only with start_datetime and end_datetime)")
		}
		return nil, invalid("properties.datetime", "is null, so properties.start_datetime and properties.end_datetime are required")
	}
	if it.Start.After(it.End) {
		return nil, invalid("properties.start_datetime", "is after properties.end_datetime")
	}
	it.Properties = make([]Property, 0, len(ms)+2)
	for _, m := range ms {
		if t := jsonType(m.value); t != "" && !strings.ContainsAny(m.key, "\\\"") {
			it.Properties = append(it.Properties, Property{Name: m.key, Type: t, Value: m.value})
		}
	}
	if !opts.Now.IsZero() {
		for _, k := range []string{"created", "updated"} {
			if lookup(ms, k) == nil {
				it.Properties = append(it.Properties, Property{Name: k, Type: "string"})
			}
		}
	}
	if opts.Now.IsZero() {
		return raw, nil
	}
	now := []byte(`"` + opts.Now.UTC().Format(TimeFormat) + `"`)
	out := make([]byte, 0, len(raw)+64)
	out = append(out, '{')
	for _, m := range ms {
		if m.key == "created" || m.key == "updated" {
			continue // rewritten below
		}
		out = append(out, '"')
		out = append(out, m.key...)
		out = append(out, '"', ':')
		out = append(out, m.value...)
		out = append(out, ',')
	}
	created := lookup(ms, "created")
	if created == nil || isNull(created) {
		created = now
	}
	out = append(out, `"created":`...)
	out = append(out, created...)
	out = append(out, `,"updated":`...)
	out = append(out, now...)
	return append(out, '}'), nil
}

func optTime(v json.RawMessage, key string) (*time.Time, error) {
	if v == nil || isNull(v) {
		return nil, nil
	}
	s, ok := unquote(v)
	if !ok {
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
	typ, coords, plain := geoJSONHead(raw)
	if !plain {
		var head struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return geom.Geometry{}, fmt.Errorf("must be a GeoJSON geometry object: %s", jsonErr(err))
		}
		typ = head.Type
	}
	switch typ {
	case "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection":
	case "Feature", "FeatureCollection":
		return geom.Geometry{}, fmt.Errorf("must be a GeoJSON geometry, not a %s", typ)
	case "":
		return geom.Geometry{}, errors.New(`must have a "type"`)
	default:
		return geom.Geometry{}, fmt.Errorf("unknown GeoJSON geometry type %q", typ)
	}
	var g geom.Geometry
	ok := false
	if plain {
		g, ok = geoJSONCoordinates(typ, coords)
	}
	if !ok {
		var err error
		if g, err = geom.UnmarshalGeoJSON(raw, geom.NoValidate{}); err != nil {
			return geom.Geometry{}, err
		}
	}
	if err := checkDuplicatePoints(g); err != nil {
		return geom.Geometry{}, err
	}
	if err := checkUnclosed(g); err != nil {
		return geom.Geometry{}, err
	}
	if err := g.Validate(); err != nil {
		return geom.Geometry{}, fmt.Errorf("invalid %s: %v", typ, err)
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
func checkUnclosed(g geom.Geometry) error {
	var polys []geom.Polygon
	switch g.Type() {
	case geom.TypePolygon:
		polys = []geom.Polygon{g.MustAsPolygon()}
	case geom.TypeMultiPolygon:
		mp := g.MustAsMultiPolygon()
		for i := range mp.NumPolygons() {
			polys = append(polys, mp.PolygonN(i))
		}
	}
	for _, p := range polys {
		for _, r := range p.DumpRings() {
			seq := r.Coordinates()
			n := seq.Length()
			if n < 4 {
				return fmt.Errorf("a polygon ring needs at least 4 positions, got %d", n)
			}
			if seq.GetXY(0) != seq.GetXY(n-1) {
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
	s, _ := unquote(v)
	return s
}

// unquote decodes JSON value v into a string as json.Unmarshal does (null
// gives ""); ok is false when it would fail. Strings without escapes, the
// usual case, are cut out directly (FuzzUnquote compares the two).
func unquote(v []byte) (s string, ok bool) {
	if n := len(v); n >= 2 && v[0] == '"' && v[n-1] == '"' {
		plain := true
		for _, c := range v[1 : n-1] {
			if c < 0x20 || c == '"' || c == '\\' || c >= utf8.RuneSelf {
				plain = false
				break
			}
		}
		if plain {
			return string(v[1 : n-1]), true
		}
	}
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false
	}
	return s, true
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
