package render

import (
	"encoding/json"
	"math"
	"sort"

	"github.com/tessera-geo/tessera/internal/raster"
)

// BandStats are the statistics of one band over its valid pixels, in
// rio-tiler's shape.
type BandStats struct {
	Min          float64            `json:"min"`
	Max          float64            `json:"max"`
	Mean         float64            `json:"mean"`
	Count        float64            `json:"count"`
	Sum          float64            `json:"sum"`
	Std          float64            `json:"std"`
	Median       float64            `json:"median"`
	Majority     float64            `json:"majority"`
	Minority     float64            `json:"minority"`
	Unique       float64            `json:"unique"`
	Histogram    [2][]float64       `json:"histogram"`
	ValidPercent float64            `json:"valid_percent"`
	MaskedPixels float64            `json:"masked_pixels"`
	ValidPixels  float64            `json:"valid_pixels"`
	Percentiles  map[string]float64 `json:"-"`
}

// StatsOptions tune Statistics.
type StatsOptions struct {
	Bins        int       // histogram bins (default 10)
	Range       []float64 // histogram range [min, max] (default data range)
	Percentiles []int     // default 2, 98
	Categorical bool      // histogram of unique values
	Categories  []float64 // with Categorical: count only these values
}

// Statistics computes per-band statistics.
func Statistics(img *raster.Image, o StatsOptions) []BandStats {
	if o.Bins <= 0 {
		o.Bins = 10
	}
	if o.Percentiles == nil {
		o.Percentiles = []int{2, 98}
	}
	n := img.Width * img.Height
	out := make([]BandStats, len(img.Bands))
	for bi, b := range img.Bands {
		vals := make([]float64, 0, n)
		for i := 0; i < n; i++ {
			if img.Valid(i) && !math.IsNaN(b[i]) {
				vals = append(vals, b[i])
			}
		}
		s := BandStats{MaskedPixels: float64(n - len(vals)), ValidPixels: float64(len(vals)), Count: float64(len(vals)), Percentiles: map[string]float64{}}
		if n > 0 {
			s.ValidPercent = math.Round(float64(len(vals))/float64(n)*10000) / 100
		}
		if len(vals) == 0 {
			s.Min, s.Max, s.Mean, s.Std, s.Median = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
			s.Histogram = [2][]float64{{}, {}}
			out[bi] = s
			continue
		}
		sort.Float64s(vals)
		s.Min, s.Max = vals[0], vals[len(vals)-1]
		for _, v := range vals {
			s.Sum += v
		}
		s.Mean = s.Sum / float64(len(vals))
		for _, v := range vals {
			s.Std += (v - s.Mean) * (v - s.Mean)
		}
		s.Std = math.Sqrt(s.Std / float64(len(vals)))
		s.Median = percentile(vals, 50)
		for _, p := range o.Percentiles {
			s.Percentiles[itoa(p)] = percentile(vals, float64(p))
		}
		// unique, majority, minority
		uniq := 0
		bestN, worstN := -1, math.MaxInt
		counts := map[float64]int{}
		for i := 0; i < len(vals); {
			j := i
			for j < len(vals) && vals[j] == vals[i] {
				j++
			}
			c := j - i
			uniq++
			if c > bestN {
				bestN, s.Majority = c, vals[i]
			}
			if c < worstN {
				worstN, s.Minority = c, vals[i]
			}
			if o.Categorical && uniq <= 10000 {
				counts[vals[i]] = c
			}
			i = j
		}
		s.Unique = float64(uniq)
		if o.Categorical {
			keys := o.Categories
			if keys == nil {
				for k := range counts {
					keys = append(keys, k)
				}
				sort.Float64s(keys)
			}
			cnt := make([]float64, len(keys))
			for i, k := range keys {
				cnt[i] = float64(counts[k])
			}
			s.Histogram = [2][]float64{cnt, keys}
		} else {
			lo, hi := s.Min, s.Max
			if len(o.Range) == 2 {
				lo, hi = o.Range[0], o.Range[1]
			}
			cnt := make([]float64, o.Bins)
			edges := make([]float64, o.Bins+1)
			for i := range edges {
				edges[i] = lo + (hi-lo)*float64(i)/float64(o.Bins)
			}
			for _, v := range vals {
				if v < lo || v > hi {
					continue
				}
				k := o.Bins - 1
				if hi > lo {
					k = min(int((v-lo)/(hi-lo)*float64(o.Bins)), o.Bins-1)
				}
				cnt[k]++
			}
			s.Histogram = [2][]float64{cnt, edges}
		}
		out[bi] = s
	}
	return out
}

// percentile with linear interpolation (numpy's default).
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	pos := p / 100 * float64(len(sorted)-1)
	i := int(math.Floor(pos))
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i] + f*(sorted[i+1]-sorted[i])
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	neg := i < 0
	if neg {
		i = -i
	}
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

// MarshalJSON writes the percentiles as "percentile_N" keys, as rio-tiler does.
func (s BandStats) MarshalJSON() ([]byte, error) {
	type plain BandStats
	nan := map[string]bool{}
	for k, f := range map[string]*float64{"min": &s.Min, "max": &s.Max, "mean": &s.Mean, "std": &s.Std, "median": &s.Median, "sum": &s.Sum} {
		if math.IsNaN(*f) || math.IsInf(*f, 0) {
			nan[k] = true
			*f = 0
		}
	}
	m := map[string]any{}
	b, err := json.Marshal(plain(s))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range s.Percentiles {
		m["percentile_"+k] = jsonFloat(v)
	}
	for k := range nan {
		m[k] = nil
	}
	return json.Marshal(m)
}

// jsonFloat turns NaN into null.
func jsonFloat(f float64) any {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil
	}
	return f
}
