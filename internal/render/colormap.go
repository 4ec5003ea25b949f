package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// RGBA is a colour.
type RGBA [4]uint8

// ColorMap maps a single band's values to colours: either a 256-entry
// lookup table over 0..255 (named maps, discrete maps with integer keys)
// or a list of intervals [min, max) → colour.
type ColorMap struct {
	LUT       *[256]RGBA     // when set: values are clamped to 0..255 and looked up
	Discrete  map[int64]RGBA // exact integer values (outside 0..255 too); others transparent
	Intervals []Interval
}

// Interval maps [Min, Max) to Color.
type Interval struct {
	Min, Max float64
	Color    RGBA
}

// Lookup returns the colour of v and whether it is defined.
func (c *ColorMap) Lookup(v float64) (RGBA, bool) {
	switch {
	case c.Intervals != nil:
		for _, iv := range c.Intervals {
			if v >= iv.Min && v < iv.Max {
				return iv.Color, true
			}
		}
		return RGBA{}, false
	case c.Discrete != nil:
		if math.IsNaN(v) {
			return RGBA{}, false
		}
		col, ok := c.Discrete[int64(math.Round(v))]
		return col, ok
	default:
		if math.IsNaN(v) {
			return RGBA{}, false
		}
		i := int(math.Max(0, math.Min(255, v)))
		return c.LUT[i], true
	}
}

// stop is a control point of a named colormap.
type stop struct {
	at  float64
	hex string
}

// evenly spaced stops
func even(hexes ...string) []stop {
	s := make([]stop, len(hexes))
	for i, h := range hexes {
		s[i] = stop{float64(i) / float64(len(hexes)-1), h}
	}
	return s
}

// Named colormaps as control points; the 256-entry tables are interpolated
// linearly in RGB between them.
var named = map[string][]stop{
	"viridis":  even("440154", "482878", "3e4989", "31688e", "26828e", "1f9e89", "35b779", "6ece58", "b5de2b", "fde725"),
	"magma":    even("000004", "180f3d", "440f76", "721f81", "9e2f7f", "cd4071", "f1605d", "fd9668", "feca8d", "fcfdbf"),
	"plasma":   even("0d0887", "46039f", "7201a8", "9c179e", "bd3786", "d8576b", "ed7953", "fb9f3a", "fdca26", "f0f921"),
	"inferno":  even("000004", "1b0c41", "4a0c6b", "781c6d", "a52c60", "cf4446", "ed6925", "fb9b06", "f7d13d", "fcffa4"),
	"cividis":  even("00224e", "123570", "3b496c", "575d6d", "707173", "8a8779", "a69d75", "c4b56c", "e4cf5b", "fee838"),
	"terrain":  {{0, "333399"}, {0.15, "0099ff"}, {0.25, "00cc66"}, {0.5, "ffff99"}, {0.75, "805c54"}, {1, "ffffff"}},
	"greys":    even("ffffff", "000000"),
	"gray":     even("000000", "ffffff"),
	"rdylgn":   even("a50026", "d73027", "f46d43", "fdae61", "fee08b", "ffffbf", "d9ef8b", "a6d96a", "66bd63", "1a9850", "006837"),
	"rdylbu":   even("a50026", "d73027", "f46d43", "fdae61", "fee090", "ffffbf", "e0f3f8", "abd9e9", "74add1", "4575b4", "313695"),
	"rdbu":     even("67001f", "b2182b", "d6604d", "f4a582", "fddbc7", "f7f7f7", "d1e5f0", "92c5de", "4393c3", "2166ac", "053061"),
	"spectral": even("9e0142", "d53e4f", "f46d43", "fdae61", "fee08b", "ffffbf", "e6f598", "abdda4", "66c2a5", "3288bd", "5e4fa2"),
	"blues":    even("f7fbff", "deebf7", "c6dbef", "9ecae1", "6baed6", "4292c6", "2171b5", "08519c", "08306b"),
	"greens":   even("f7fcf5", "e5f5e0", "c7e9c0", "a1d99b", "74c476", "41ab5d", "238b45", "006d2c", "00441b"),
	"reds":     even("fff5f0", "fee0d2", "fcbba1", "fc9272", "fb6a4a", "ef3b2c", "cb181d", "a50f15", "67000d"),
	"ylgn":     even("ffffe5", "f7fcb9", "d9f0a3", "addd8e", "78c679", "41ab5d", "238443", "006837", "004529"),
	"ylorrd":   even("ffffcc", "ffeda0", "fed976", "feb24c", "fd8d3c", "fc4e2a", "e31a1c", "bd0026", "800026"),
	"brbg":     even("543005", "8c510a", "bf812d", "dfc27d", "f6e8c3", "f5f5f5", "c7eae5", "80cdc1", "35978f", "01665e", "003c30"),
	"coolwarm": even("3b4cc0", "6788ee", "9abbff", "c9d7f0", "edd1c2", "f7a889", "e26952", "b40426"),
	"jet":      {{0, "000080"}, {0.11, "0000ff"}, {0.125, "0000ff"}, {0.34, "00ffff"}, {0.375, "00ffff"}, {0.64, "ffff00"}, {0.65, "ffff00"}, {0.89, "ff0000"}, {1, "800000"}},
}

// ColorMapNames lists the named colormaps (each also exists reversed, with
// an "_r" suffix).
func ColorMapNames() []string {
	var out []string
	for k := range named {
		out = append(out, k, k+"_r")
	}
	sort.Strings(out)
	return out
}

// ErrUnknownColorMap is returned for a name that is not registered.
var ErrUnknownColorMap = errors.New("unknown colormap")

// NamedColorMap builds the 256-entry table of a named colormap.
func NamedColorMap(name string) (*ColorMap, error) {
	n := strings.ToLower(name)
	rev := strings.HasSuffix(n, "_r")
	stops, ok := named[strings.TrimSuffix(n, "_r")]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownColorMap, name)
	}
	var lut [256]RGBA
	cols := make([][3]float64, len(stops))
	for i, s := range stops {
		v, _ := strconv.ParseUint(s.hex, 16, 32)
		cols[i] = [3]float64{float64(v >> 16 & 0xff), float64(v >> 8 & 0xff), float64(v & 0xff)}
	}
	for i := 0; i < 256; i++ {
		t := float64(i) / 255
		if rev {
			t = 1 - t
		}
		j := 0
		for j < len(stops)-2 && t > stops[j+1].at {
			j++
		}
		a, b := stops[j], stops[j+1]
		f := 0.0
		if b.at > a.at {
			f = math.Max(0, math.Min(1, (t-a.at)/(b.at-a.at)))
		}
		for k := 0; k < 3; k++ {
			lut[i][k] = uint8(math.Round(cols[j][k] + f*(cols[j+1][k]-cols[j][k])))
		}
		lut[i][3] = 255
	}
	return &ColorMap{LUT: &lut}, nil
}

// ParseColorMap decodes a JSON colormap: either an object of value → colour
// ({"1": [255,0,0,255], "2": "#00ff00"}) or a list of intervals
// ([[[0, 10], [255,0,0,255]], ...]). Colours are [r,g,b], [r,g,b,a] or hex
// strings.
func ParseColorMap(s string) (*ColorMap, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		var raw [][2]json.RawMessage
		if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return nil, fmt.Errorf("interval colormap: %w", err)
		}
		cm := &ColorMap{Intervals: []Interval{}}
		for i, r := range raw {
			var rng []float64
			if err := json.Unmarshal(r[0], &rng); err != nil || len(rng) != 2 {
				return nil, fmt.Errorf("interval %d: range must be [min, max]", i)
			}
			col, err := parseColor(r[1])
			if err != nil {
				return nil, fmt.Errorf("interval %d: %w", i, err)
			}
			cm.Intervals = append(cm.Intervals, Interval{Min: rng[0], Max: rng[1], Color: col})
		}
		if len(cm.Intervals) == 0 {
			return nil, errors.New("empty colormap")
		}
		return cm, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, fmt.Errorf("colormap must be a JSON object or list: %w", err)
	}
	if len(raw) == 0 {
		return nil, errors.New("empty colormap")
	}
	cm := &ColorMap{Discrete: map[int64]RGBA{}}
	for k, v := range raw {
		key, err := strconv.ParseInt(strings.TrimSpace(k), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("key %q is not an integer", k)
		}
		col, err := parseColor(v)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		cm.Discrete[key] = col
	}
	return cm, nil
}

func parseColor(m json.RawMessage) (RGBA, error) {
	var hex string
	if json.Unmarshal(m, &hex) == nil {
		h := strings.TrimPrefix(hex, "#")
		if len(h) == 6 {
			h += "ff"
		}
		v, err := strconv.ParseUint(h, 16, 32)
		if len(h) != 8 || err != nil {
			return RGBA{}, fmt.Errorf("bad colour %q", hex)
		}
		return RGBA{uint8(v >> 24), uint8(v >> 16), uint8(v >> 8), uint8(v)}, nil
	}
	var arr []float64
	if err := json.Unmarshal(m, &arr); err != nil || (len(arr) != 3 && len(arr) != 4) {
		return RGBA{}, errors.New("colour must be [r,g,b], [r,g,b,a] or \"#rrggbb\"")
	}
	out := RGBA{0, 0, 0, 255}
	for i, v := range arr {
		if v < 0 || v > 255 {
			return RGBA{}, fmt.Errorf("colour component %v out of 0..255", v)
		}
		out[i] = uint8(v)
	}
	return out, nil
}

// Table returns the colormap as value → colour for JSON documents (the
// LUT, or the discrete map), or the intervals.
func (c *ColorMap) Table() any {
	switch {
	case c.Intervals != nil:
		out := make([][2]any, len(c.Intervals))
		for i, iv := range c.Intervals {
			out[i] = [2]any{[2]float64{iv.Min, iv.Max}, iv.Color}
		}
		return out
	case c.Discrete != nil:
		out := map[string]RGBA{}
		for k, v := range c.Discrete {
			out[strconv.FormatInt(k, 10)] = v
		}
		return out
	default:
		out := map[string]RGBA{}
		for i, v := range c.LUT {
			out[strconv.Itoa(i)] = v
		}
		return out
	}
}
