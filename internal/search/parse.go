package search

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/peterstace/simplefeatures/geom"

	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/stac"
)

// ParseGET builds a Query from a GET query string.
func ParseGET(v url.Values, lim Limits) (Query, error) {
	q := Query{Limit: lim.DefaultLimit}
	var err error
	if s, ok := single(v, "collections"); ok {
		if q.Collections, err = parseList("collections", s); err != nil {
			return Query{}, err
		}
	}
	if s, ok := single(v, "ids"); ok {
		if q.IDs, err = parseList("ids", s); err != nil {
			return Query{}, err
		}
	}
	if s, ok := single(v, "bbox"); ok {
		b, err := ParseBBoxString(s)
		if err != nil {
			return Query{}, err
		}
		q.BBox = &b
	}
	if s, ok := single(v, "intersects"); ok {
		g, err := parseIntersects([]byte(s))
		if err != nil {
			return Query{}, err
		}
		q.Intersects = &g
	}
	if s, ok := single(v, "datetime"); ok {
		iv, err := ParseDatetime(s)
		if err != nil {
			return Query{}, err
		}
		q.Datetime = &iv
	}
	if s, ok := single(v, "limit"); ok {
		if q.Limit, err = parseLimit(s, lim); err != nil {
			return Query{}, err
		}
	}
	if s, ok := single(v, "token"); ok {
		q.Token = s
	}
	for _, p := range []string{"collections", "ids", "bbox", "intersects", "datetime", "limit", "token"} {
		if len(v[p]) > 1 {
			return Query{}, invalid(p, "given %d times; give it once", len(v[p]))
		}
	}
	return q, q.check()
}

// single returns the parameter's value when it is present.
func single(v url.Values, key string) (string, bool) {
	vals, ok := v[key]
	if !ok || len(vals) == 0 {
		return "", false
	}
	return vals[0], true
}

// Body is the JSON body of POST /search. Fields are raw so that each can be
// checked and reported by name.
type Body struct {
	Collections json.RawMessage `json:"collections"`
	IDs         json.RawMessage `json:"ids"`
	BBox        json.RawMessage `json:"bbox"`
	Intersects  json.RawMessage `json:"intersects"`
	Datetime    json.RawMessage `json:"datetime"`
	Limit       json.RawMessage `json:"limit"`
	Token       json.RawMessage `json:"token"`
}

// ParsePOST builds a Query from a POST /search body.
func ParsePOST(body []byte, lim Limits) (Query, error) {
	body = bytes.TrimSpace(body)
	q := Query{Limit: lim.DefaultLimit}
	if len(body) == 0 {
		return q, nil
	}
	var b Body
	if err := json.Unmarshal(body, &b); err != nil {
		return Query{}, &InvalidParamError{Param: "body", Reason: "not a JSON object: " + describeJSONError(err), Err: err}
	}
	var err error
	if present(b.Collections) {
		if q.Collections, err = stringArray("collections", b.Collections); err != nil {
			return Query{}, err
		}
	}
	if present(b.IDs) {
		if q.IDs, err = stringArray("ids", b.IDs); err != nil {
			return Query{}, err
		}
	}
	if present(b.BBox) {
		var v []float64
		if err := json.Unmarshal(b.BBox, &v); err != nil {
			return Query{}, invalid("bbox", "must be an array of 4 or 6 numbers")
		}
		bb, err := geo.BBoxFromSlice(v)
		if err != nil {
			return Query{}, invalid("bbox", "%v", err)
		}
		q.BBox = &bb
	}
	if present(b.Intersects) {
		g, err := parseIntersects(b.Intersects)
		if err != nil {
			return Query{}, err
		}
		q.Intersects = &g
	}
	if present(b.Datetime) {
		var s string
		if err := json.Unmarshal(b.Datetime, &s); err != nil {
			return Query{}, invalid("datetime", "must be a string (an RFC 3339 instant or interval)")
		}
		iv, err := ParseDatetime(s)
		if err != nil {
			return Query{}, err
		}
		q.Datetime = &iv
	}
	if present(b.Limit) {
		var n json.Number
		if err := json.Unmarshal(b.Limit, &n); err != nil {
			return Query{}, invalid("limit", "must be an integer")
		}
		if q.Limit, err = parseLimit(n.String(), lim); err != nil {
			return Query{}, err
		}
	}
	if present(b.Token) {
		if err := json.Unmarshal(b.Token, &q.Token); err != nil {
			return Query{}, invalid("token", "must be a string")
		}
	}
	return q, q.check()
}

func (q Query) check() error {
	if q.BBox != nil && q.Intersects != nil {
		return invalid("bbox", "cannot be combined with intersects; give one of them")
	}
	return nil
}

func present(v json.RawMessage) bool { return len(v) > 0 && !bytes.Equal(v, []byte("null")) }

func stringArray(param string, raw json.RawMessage) ([]string, error) {
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, invalid(param, "must be an array of strings")
	}
	for _, s := range v {
		if s == "" {
			return nil, invalid(param, "must not contain empty strings")
		}
	}
	return v, nil
}

func parseList(param, s string) ([]string, error) {
	parts := strings.Split(s, ",")
	out := parts[:0]
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, invalid(param, "must be a comma-separated list of one or more values")
	}
	return out, nil
}

func parseLimit(s string, lim Limits) (int, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, invalid("limit", "%q is not an integer", s)
	}
	if n < 1 {
		return 0, invalid("limit", "must be at least 1, got %d", n)
	}
	if lim.MaxLimit > 0 && n > int64(lim.MaxLimit) {
		n = int64(lim.MaxLimit)
	}
	return int(n), nil
}

// ParseBBoxString parses "minx,miny,maxx,maxy" (or 6 numbers).
func ParseBBoxString(s string) (geo.BBox, error) {
	parts := strings.Split(s, ",")
	v := make([]float64, 0, len(parts))
	for _, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return geo.BBox{}, invalid("bbox", "%q is not a number; expected minx,miny,maxx,maxy", strings.TrimSpace(p))
		}
		v = append(v, f)
	}
	b, err := geo.BBoxFromSlice(v)
	if err != nil {
		return geo.BBox{}, invalid("bbox", "%v", err)
	}
	return b, nil
}

func parseIntersects(raw []byte) (geom.Geometry, error) {
	g, err := stac.DecodeGeometry(raw)
	if err != nil {
		return geom.Geometry{}, invalid("intersects", "%v", err)
	}
	return g, nil
}

// ParseDatetime parses a STAC datetime parameter: an RFC 3339 instant, or
// an interval "start/end" where either end may be ".." or empty (open).
// A full date (2020-01-02) stands for that whole UTC day.
func ParseDatetime(s string) (Interval, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Interval{}, invalid("datetime", "must not be empty")
	}
	parts := strings.Split(s, "/")
	switch len(parts) {
	case 1:
		start, end, err := parseInstant(parts[0])
		if err != nil {
			return Interval{}, err
		}
		return Interval{Start: &start, End: &end}, nil
	case 2:
		var iv Interval
		if open(parts[0]) && open(parts[1]) {
			return Interval{}, invalid("datetime", "%q: at least one end of the interval must be a timestamp", s)
		}
		if !open(parts[0]) {
			start, _, err := parseInstant(parts[0])
			if err != nil {
				return Interval{}, err
			}
			iv.Start = &start
		}
		if !open(parts[1]) {
			_, end, err := parseInstant(parts[1])
			if err != nil {
				return Interval{}, err
			}
			iv.End = &end
		}
		if iv.Start != nil && iv.End != nil && iv.Start.After(*iv.End) {
			return Interval{}, invalid("datetime", "interval start %s is after its end %s", parts[0], parts[1])
		}
		return iv, nil
	default:
		return Interval{}, invalid("datetime", "%q: expected an instant or one start/end interval", s)
	}
}

func open(s string) bool { s = strings.TrimSpace(s); return s == "" || s == ".." }

// parseInstant returns the instant, or the first and last instants of a
// full date.
func parseInstant(s string) (time.Time, time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) == len("2006-01-02") {
		d, err := time.Parse("2006-01-02", s)
		if err == nil {
			return d, d.Add(24*time.Hour - time.Nanosecond), nil
		}
	}
	t, err := stac.ParseTime(s)
	if err != nil {
		return time.Time{}, time.Time{}, invalid("datetime", "%q is not an RFC 3339 timestamp (e.g. 2020-01-02T03:04:05Z)", s)
	}
	return t, t, nil
}

func describeJSONError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s must not be a %s", te.Field, te.Value)
		}
		return fmt.Sprintf("expected an object, got a %s", te.Value)
	}
	return err.Error()
}
