package cql2

import (
	"time"

	"github.com/peterstace/simplefeatures/geom"
)

// AllNodes returns filters that together contain every node type, every
// operator and both open and closed intervals. Tests of translators walk it
// to prove they handle the whole closed set.
func AllNodes() []Expr {
	p := func(n string) Property { return Property{Name: n} }
	ts := Timestamp{Time: time.Date(2021, 4, 1, 12, 0, 0, 0, time.UTC)}
	date := Date{Time: time.Date(2021, 4, 1, 0, 0, 0, 0, time.UTC)}
	poly := Geometry{Geom: geom.NewPolygonXY([]float64{0, 0, 10, 0, 10, 10, 0, 10, 0, 0}).AsGeometry()}
	var out []Expr
	for _, op := range compOps {
		out = append(out, Comparison{Op: op, Left: p("eo:cloud_cover"), Right: Number{Value: 10}})
	}
	for _, op := range arithOps {
		out = append(out, Comparison{Op: Gt, Left: Arithmetic{Op: op, Left: p("a"), Right: Number{Value: 2}}, Right: p("b")})
	}
	for _, op := range spatialOps {
		out = append(out, Spatial{Op: op, Left: p("geometry"), Right: poly})
	}
	for _, op := range temporalOps {
		out = append(out, Temporal{Op: op, Left: p("datetime"), Right: Interval{Start: ts, End: nil}})
	}
	for _, op := range arrayOps {
		out = append(out, ArrayPredicate{Op: op, Left: p("tags"), Right: Array{Elems: []Expr{String{Value: "a"}, Number{Value: 1}, Bool{Value: true}}}})
	}
	out = append(out,
		And{Args: []Expr{
			Or{Args: []Expr{
				Like{Value: Casei{Arg: p("platform")}, Pattern: Casei{Arg: String{Value: "Sentinel%"}}},
				Not{Arg: Like{Value: Accenti{Arg: p("platform")}, Pattern: Accenti{Arg: String{Value: "é%"}}}},
			}},
			Between{Value: p("gsd"), Low: Number{Value: 1}, High: Number{Value: 30}},
			In{Value: p("collection"), List: []Expr{String{Value: "c1"}, String{Value: "c2"}}},
			Not{Arg: IsNull{Arg: p("id")}},
			p("flag"),
			Bool{Value: true},
		}},
		Spatial{Op: SWithin, Left: p("geometry"), Right: BBox{Coords: []float64{-10, -10, 10, 10}}},
		Temporal{Op: TDuring, Left: Interval{Start: p("start_datetime"), End: p("end_datetime")}, Right: Interval{Start: date, End: ts}},
		Comparison{Op: Lt, Left: p("datetime"), Right: ts},
		Comparison{Op: Ge, Left: p("updated"), Right: date},
		Comparison{Op: Eq, Left: Function{Name: "avg", Args: []Expr{p("windSpeed")}}, Right: Number{Value: 4}},
	)
	return out
}
