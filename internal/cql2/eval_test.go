package cql2_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/tessera-geo/tessera/internal/cql2"
)

const sampleJSON = `{
  "type": "Feature", "stac_version": "1.0.0",
  "id": "S2A_2021", "collection": "sentinel-2-l2a",
  "geometry": {"type": "Polygon", "coordinates": [[[0,0],[10,0],[10,10],[0,10],[0,0]]]},
  "properties": {
    "datetime": "2021-04-01T12:00:00Z",
    "eo:cloud_cover": 7.5,
    "platform": "Sentinel-2A",
    "title": "Débarquement",
    "count": 4,
    "flag": true,
    "nothing": null,
    "tags": ["a", "b", 3, true],
    "updated": "2022-01-01T00:00:00+01:00",
    "a.b": "dotted",
    "footprint": {"type": "Point", "coordinates": [5, 5]}
  }
}`

func sampleItem() map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(sampleJSON), &m); err != nil {
		panic(err)
	}
	return m
}

func intervalItem() map[string]any {
	m := sampleItem()
	p := m["properties"].(map[string]any)
	p["datetime"] = nil
	p["start_datetime"] = "2021-01-01T00:00:00Z"
	p["end_datetime"] = "2021-12-31T23:59:59Z"
	return m
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		class, filter string
		want          bool
	}{
		{"basic", `collection = 'sentinel-2-l2a'`, true},
		{"basic", `id <> 'S2A_2021'`, false},
		{"basic", `"eo:cloud_cover" < 10`, true},
		{"basic", `properties.eo:cloud_cover >= 7.5`, true},
		{"basic", `"properties.eo:cloud_cover" > 7.5`, false},
		{"basic", `platform = 'Sentinel-2A' AND count = 4`, true},
		{"basic", `flag`, true},
		{"basic", `flag = false OR count > 3`, true},
		{"basic", `"a.b" = 'dotted'`, true},
		{"basic", `TRUE`, true},
		{"basic", `FALSE`, false},
		{"null", `missing = 1`, false},
		{"null", `NOT (missing = 1)`, false}, // unknown stays unknown
		{"null", `missing = 1 OR TRUE`, true},
		{"null", `NOT (missing = 1 AND FALSE)`, true},
		{"null", `missing IS NULL`, true},
		{"null", `nothing IS NULL`, true},
		{"null", `platform IS NOT NULL`, true},
		{"null", `platform = 5`, false}, // type mismatch is unknown
		{"null", `NOT (platform = 5)`, false},
		{"advanced", `platform LIKE 'Sentinel%'`, true},
		{"advanced", `platform LIKE 'sentinel%'`, false},
		{"advanced", `platform LIKE 'Sentinel-2_'`, true},
		{"advanced", `platform LIKE 'Sentinel\-2_'`, true},
		{"advanced", `platform NOT LIKE '%2B'`, true},
		{"advanced", `"eo:cloud_cover" BETWEEN 7 AND 8`, true},
		{"advanced", `"eo:cloud_cover" NOT BETWEEN 7 AND 8`, false},
		{"advanced", `platform IN ('Landsat-8', 'Sentinel-2A')`, true},
		{"advanced", `count NOT IN (1, 2, 3)`, true},
		{"advanced", `count IN (1, 'x')`, false},
		{"casei", `CASEI(platform) = casei('SENTINEL-2a')`, true},
		{"casei", `CASEI(platform) LIKE casei('sent%')`, true},
		{"accenti", `ACCENTI(title) = accenti('Debarquement')`, true},
		{"accenti", `ACCENTI(CASEI(title)) = accenti(casei('DÉBARQUEMENT'))`, true},
		{"accenti", `title = 'Debarquement'`, false},
		{"spatial", `S_INTERSECTS(geometry, POINT(5 5))`, true},
		{"spatial", `S_INTERSECTS(geometry, BBOX(20, 20, 30, 30))`, false},
		{"spatial", `S_DISJOINT(geometry, BBOX(20, 20, 30, 30))`, true},
		{"spatial", `S_WITHIN(geometry, BBOX(-1, -1, 11, 11))`, true},
		{"spatial", `S_CONTAINS(geometry, POINT(5 5))`, true},
		{"spatial", `S_TOUCHES(geometry, LINESTRING(10 0, 20 0))`, true},
		{"spatial", `S_CROSSES(LINESTRING(-5 5, 5 5), geometry)`, true},
		{"spatial", `S_OVERLAPS(geometry, POLYGON((5 5, 15 5, 15 15, 5 15, 5 5)))`, true},
		{"spatial", `S_EQUALS(geometry, POLYGON((0 0, 0 10, 10 10, 10 0, 0 0)))`, true},
		{"spatial", `S_INTERSECTS(footprint, POINT(5 5))`, true},
		{"spatial", `S_INTERSECTS(platform, POINT(5 5))`, false},
		{"spatial", `S_INTERSECTS(geometry, BBOX(170, -5, -170, 5))`, false},
		{"temporal", `datetime = TIMESTAMP('2021-04-01T12:00:00Z')`, true},
		{"temporal", `datetime > DATE('2021-04-01')`, true},
		{"temporal", `T_AFTER(datetime, DATE('2021-04-01'))`, true},
		{"temporal", `T_BEFORE(datetime, TIMESTAMP('2021-04-01T12:00:00.000001Z'))`, true},
		{"temporal", `T_DURING(datetime, INTERVAL('2021-01-01', '..'))`, true},
		{"temporal", `T_INTERSECTS(datetime, INTERVAL('..', '2021-04-01T12:00:00Z'))`, true},
		{"temporal", `T_DISJOINT(datetime, INTERVAL('2022-01-01', '..'))`, true},
		{"temporal", `T_EQUALS(datetime, TIMESTAMP('2021-04-01T14:00:00+02:00'))`, true},
		{"temporal", `T_MEETS(INTERVAL('2020-01-01', '2021-04-01T12:00:00Z'), datetime)`, true},
		{"temporal", `T_AFTER(updated, TIMESTAMP('2021-12-31T23:30:00Z'))`, false},
		{"temporal", `updated < TIMESTAMP('2021-12-31T23:30:00Z')`, true},
		{"array", `A_CONTAINS(tags, ('a', 3))`, true},
		{"array", `A_CONTAINS(tags, ('a', 4))`, false},
		{"array", `A_CONTAINEDBY(tags, ('a', 'b', 3, TRUE, 'z'))`, true},
		{"array", `A_CONTAINED_BY(tags, ('a', 'b'))`, false},
		{"array", `A_OVERLAPS(tags, ('z', TRUE))`, true},
		{"array", `A_EQUALS(tags, ('a', 'b', 3, TRUE))`, true},
		{"array", `A_EQUALS(tags, ('b', 'a', 3, TRUE))`, false},
		{"array", `A_OVERLAPS(platform, ('a'))`, false},
		{"arithmetic", `count + 1 = 5`, true},
		{"arithmetic", `count * 2 - 1 = 7`, true},
		{"arithmetic", `count / 0 = 1 OR TRUE`, true},
		{"arithmetic", `NOT (count / 0 = 1)`, false},
		{"arithmetic", `count % 3 = 1`, true},
		{"arithmetic", `count div 3 = 1`, true},
		{"arithmetic", `2 ^ count = 16`, true},
		{"arithmetic", `-count = -4`, true},
		{"property-property", `count < "eo:cloud_cover"`, true},
		{"property-property", `platform = title`, false},
	}
	for _, tc := range tests {
		t.Run(tc.class+"/"+tc.filter, func(t *testing.T) {
			e, err := cql2.ParseText(tc.filter)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cql2.Evaluate(e, sampleItem())
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEvaluateDatetimeInterval(t *testing.T) {
	tests := []struct {
		filter string
		want   bool
	}{
		{`T_INTERSECTS(datetime, DATE('2021-06-01'))`, true},
		{`T_CONTAINS(datetime, DATE('2021-06-01'))`, true},
		{`T_DURING(datetime, INTERVAL('2020-01-01', '2022-01-01'))`, true},
		{`T_STARTS(datetime, INTERVAL('2021-01-01', '2022-01-01'))`, true},
		{`T_AFTER(datetime, DATE('2020-12-31'))`, true},
		{`datetime IS NULL`, true},
		{`datetime < DATE('2030-01-01')`, false}, // comparisons see null
		{`T_DURING(INTERVAL(start_datetime, end_datetime), INTERVAL('2020-01-01', '..'))`, true},
	}
	for _, tc := range tests {
		e, err := cql2.ParseText(tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cql2.Evaluate(e, intervalItem())
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.filter, got, tc.want)
		}
	}
}

func TestEvaluateUnsupported(t *testing.T) {
	e, err := cql2.ParseText(`Buffer(geometry, 10) = 1`)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cql2.Evaluate(e, sampleItem())
	if !errors.Is(err, cql2.ErrUnsupported) {
		t.Fatalf("err = %v, want ErrUnsupported", err)
	}
}

func TestProperties(t *testing.T) {
	e, err := cql2.ParseText(`a = 1 AND (b > a OR S_INTERSECTS(geometry, POINT(1 2))) AND T_DURING(INTERVAL(s, e), INTERVAL('..', '..'))`)
	if err != nil {
		t.Fatal(err)
	}
	got := cql2.Properties(e)
	want := []string{"a", "b", "e", "geometry", "s"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
