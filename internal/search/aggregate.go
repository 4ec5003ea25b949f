package search

import (
	"encoding/json"
	"strconv"
	"strings"
)

// AggregationKind says how an aggregation is computed.
type AggregationKind int

const (
	// AggCount is the number of matching items.
	AggCount AggregationKind = iota
	// AggDatetimeMin and AggDatetimeMax are the earliest and latest item times.
	AggDatetimeMin
	AggDatetimeMax
	// AggDatetimeFrequency counts items per calendar interval.
	AggDatetimeFrequency
	// AggTerms counts items per value of a field (most frequent first).
	AggTerms
	// AggRanges counts items per numeric range of a property.
	AggRanges
	// AggGeohash and AggGeotile count item centroids per grid cell.
	AggGeohash
	AggGeotile
)

// Range is a numeric bucket [From, To); nil ends are open.
type Range struct {
	From, To *float64
}

// AggregationDef describes one available aggregation.
type AggregationDef struct {
	Name     string
	DataType string // as listed by /aggregations
	Kind     AggregationKind
	Field    string // the property (or "collection") for terms and ranges
	Ranges   []Range
}

func steps(from, to, step float64) []Range {
	var rs []Range
	for x := from; x < to; x += step {
		a, b := x, x+step
		rs = append(rs, Range{From: &a, To: &b})
	}
	return rs
}

// Aggregations lists the aggregations tessera computes (stac-server's set).
var Aggregations = []AggregationDef{
	{Name: "total_count", DataType: "integer", Kind: AggCount},
	{Name: "datetime_min", DataType: "datetime", Kind: AggDatetimeMin},
	{Name: "datetime_max", DataType: "datetime", Kind: AggDatetimeMax},
	{Name: "datetime_frequency", DataType: "frequency_distribution", Kind: AggDatetimeFrequency},
	{Name: "collection_frequency", DataType: "frequency_distribution", Kind: AggTerms, Field: "collection"},
	{Name: "platform_frequency", DataType: "frequency_distribution", Kind: AggTerms, Field: "platform"},
	{Name: "grid_code_frequency", DataType: "frequency_distribution", Kind: AggTerms, Field: "grid:code"},
	{Name: "cloud_cover_frequency", DataType: "frequency_distribution", Kind: AggRanges, Field: "eo:cloud_cover", Ranges: steps(0, 100, 10)},
	{Name: "sun_elevation_frequency", DataType: "frequency_distribution", Kind: AggRanges, Field: "view:sun_elevation", Ranges: steps(-90, 90, 10)},
	{Name: "sun_azimuth_frequency", DataType: "frequency_distribution", Kind: AggRanges, Field: "view:sun_azimuth", Ranges: steps(0, 360, 30)},
	{Name: "off_nadir_frequency", DataType: "frequency_distribution", Kind: AggRanges, Field: "view:off_nadir", Ranges: steps(0, 50, 5)},
	{Name: "centroid_geohash_grid_frequency", DataType: "frequency_distribution", Kind: AggGeohash},
	{Name: "centroid_geotile_grid_frequency", DataType: "frequency_distribution", Kind: AggGeotile},
}

// Aggregation is one requested aggregation with its parameters.
type Aggregation struct {
	AggregationDef
	// Interval of datetime_frequency: year, month (default), day, hour.
	Interval string
	// Precision of grid aggregations (geohash 1–12, default 1; geotile
	// zoom 0–29, default 0).
	Precision int
}

// ParseAggregations reads the aggregations parameter (a comma-separated
// string for GET, an array for POST) and the per-aggregation parameters
// (<name>_interval, <name>_precision).
func ParseAggregations(names []string, param func(string) string) ([]Aggregation, error) {
	if len(names) == 0 {
		return nil, invalid("aggregations", "name at least one aggregation (see /aggregations)")
	}
	byName := map[string]AggregationDef{}
	for _, d := range Aggregations {
		byName[d.Name] = d
	}
	var out []Aggregation
	for _, n := range names {
		n = strings.TrimSpace(n)
		d, ok := byName[n]
		if !ok {
			return nil, invalid("aggregations", "unknown aggregation %q (see /aggregations)", n)
		}
		a := Aggregation{AggregationDef: d, Interval: "month"}
		if v := param(n + "_interval"); v != "" {
			switch v {
			case "year", "month", "day", "hour":
				a.Interval = v
			default:
				return nil, invalid(n+"_interval", "%q must be year, month, day or hour", v)
			}
		}
		maxP, minP := 12, 1
		if d.Kind == AggGeotile {
			maxP, minP = 29, 0
		}
		a.Precision = minP
		if v := param(n + "_precision"); v != "" {
			p, err := strconv.Atoi(v)
			if err != nil || p < minP || p > maxP {
				return nil, invalid(n+"_precision", "must be an integer from %d to %d", minP, maxP)
			}
			a.Precision = p
		}
		out = append(out, a)
	}
	return out, nil
}

// AggregationNamesPOST reads the POST body's aggregations member and its
// parameters (as strings).
func AggregationNamesPOST(body []byte) ([]string, map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, nil, invalid("body", "not a JSON object")
	}
	var names []string
	if a, ok := raw["aggregations"]; ok {
		if err := json.Unmarshal(a, &names); err != nil {
			return nil, nil, invalid("aggregations", "must be an array of aggregation names")
		}
	}
	params := map[string]string{}
	for k, v := range raw {
		if strings.HasSuffix(k, "_interval") || strings.HasSuffix(k, "_precision") {
			params[k] = strings.Trim(string(v), `"`)
		}
	}
	return names, params, nil
}
