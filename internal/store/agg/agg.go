// Package agg turns the values a store reads into aggregation results:
// every store counts (key, n) pairs into a Counter and returns its Result,
// so that buckets, keys, ordering and overflow are the same whatever the
// backend.
package agg

import (
	"sort"
	"strconv"
	"time"

	"github.com/tessera-geo/tessera/internal/geo"
	"github.com/tessera-geo/tessera/internal/search"
	"github.com/tessera-geo/tessera/internal/store"
)

// MaxTerms is how many buckets a terms (or grid) aggregation returns; the
// rest is reported as overflow.
const MaxTerms = 100

// TimeFormat is how bucket keys and datetime values are written.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// Counter accumulates one aggregation. It is not safe for concurrent use.
type Counter struct {
	Agg      search.Aggregation
	total    int64
	counts   map[string]int64
	min, max *time.Time
}

// New returns an empty counter.
func New(a search.Aggregation) *Counter { return &Counter{Agg: a, counts: map[string]int64{}} }

// Count adds n matching items (total_count).
func (c *Counter) Count(n int64) { c.total += n }

// Times widens datetime_min/max with an item's interval.
func (c *Counter) Times(start, end time.Time) {
	if c.min == nil || start.Before(*c.min) {
		s := start.UTC()
		c.min = &s
	}
	if c.max == nil || end.After(*c.max) {
		e := end.UTC()
		c.max = &e
	}
}

// Truncate is the start of the datetime_frequency interval holding t.
func Truncate(t time.Time, interval string) time.Time {
	t = t.UTC()
	switch interval {
	case "year":
		return time.Date(t.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	case "day":
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case "hour":
		return t.Truncate(time.Hour)
	}
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// Time counts n items at time t (datetime_frequency).
func (c *Counter) Time(t time.Time, n int64) {
	c.counts[Truncate(t, c.Agg.Interval).Format(TimeFormat)] += n
}

// Term counts n items with a value (terms aggregations).
func (c *Counter) Term(s string, n int64) { c.counts[s] += n }

// Number counts n items with a numeric value (range aggregations).
func (c *Counter) Number(f float64, n int64) {
	for i, r := range c.Agg.Ranges {
		if (r.From == nil || f >= *r.From) && (r.To == nil || f < *r.To) {
			c.counts[strconv.Itoa(i)] += n
			return
		}
	}
}

// Point counts n items centred at (x, y) (grid aggregations). A centre
// east of 180° (a bbox crossing the antimeridian) wraps around.
func (c *Counter) Point(x, y float64, n int64) {
	if x > 180 {
		x -= 360
	}
	if c.Agg.Kind == search.AggGeohash {
		c.counts[geo.Geohash(x, y, c.Agg.Precision)] += n
	} else {
		c.counts[geo.Geotile(x, y, c.Agg.Precision)] += n
	}
}

// Result is the aggregation as the API returns it.
func (c *Counter) Result() store.AggregationResult {
	r := store.AggregationResult{Name: c.Agg.Name, DataType: c.Agg.DataType}
	format := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return t.Format(TimeFormat)
	}
	switch c.Agg.Kind {
	case search.AggCount:
		r.Value = c.total
		return r
	case search.AggDatetimeMin:
		r.Value = format(c.min)
		return r
	case search.AggDatetimeMax:
		r.Value = format(c.max)
		return r
	case search.AggRanges:
		for i, rg := range c.Agg.Ranges {
			if n := c.counts[strconv.Itoa(i)]; n > 0 {
				r.Buckets = append(r.Buckets, store.Bucket{Key: rangeKey(rg), DataType: "numeric", Frequency: n, From: rg.From, To: rg.To})
			}
		}
		return r
	}
	dt := "string"
	if c.Agg.Kind == search.AggDatetimeFrequency {
		dt = "datetime"
	}
	for k, n := range c.counts {
		r.Buckets = append(r.Buckets, store.Bucket{Key: k, DataType: dt, Frequency: n})
	}
	if c.Agg.Kind == search.AggDatetimeFrequency {
		sort.Slice(r.Buckets, func(i, j int) bool { return r.Buckets[i].Key < r.Buckets[j].Key })
		return r
	}
	sort.Slice(r.Buckets, func(i, j int) bool {
		if r.Buckets[i].Frequency != r.Buckets[j].Frequency {
			return r.Buckets[i].Frequency > r.Buckets[j].Frequency
		}
		return r.Buckets[i].Key < r.Buckets[j].Key
	})
	if len(r.Buckets) > MaxTerms {
		for _, b := range r.Buckets[MaxTerms:] {
			r.Overflow += b.Frequency
		}
		r.Buckets = r.Buckets[:MaxTerms]
	}
	return r
}

func rangeKey(r search.Range) string {
	f := func(p *float64) string {
		if p == nil {
			return "*"
		}
		return strconv.FormatFloat(*p, 'f', 1, 64)
	}
	return f(r.From) + "-" + f(r.To)
}
