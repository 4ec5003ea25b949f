package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/tessera-geo/tessera/internal/raster"
)

// ColorFormula is a sequence of colour operations in rio-color's language
// (titiler's color_formula), e.g. "Gamma RGB 3.5 Saturation 1.7 Sigmoidal
// RGB 15 0.35":
//
//   - gamma BANDS G: v^(1/G);
//   - sigmoidal BANDS CONTRAST BIAS: sigmoidal contrast centred on BIAS
//     (0..1), the inverse curve for a negative CONTRAST;
//   - saturation PROPORTION: chroma multiplied by PROPORTION in CIE LCh
//     (needs three bands: red, green, blue).
//
// BANDS is a set of r, g, b or 1, 2, 3. Operation names are case-insensitive;
// commas are ignored.
type ColorFormula []colorOp

type colorOp struct {
	name  string
	bands []int // 0-based; saturation: 0, 1, 2
	args  []float64
}

// ParseColorFormula parses a formula; errors say what is wrong in it.
func ParseColorFormula(s string) (ColorFormula, error) {
	arity := map[string]int{"gamma": 1, "sigmoidal": 2, "saturation": 1}
	var ops [][]string
	for _, tok := range strings.Fields(strings.ReplaceAll(s, ",", " ")) {
		t := strings.ToLower(tok)
		if _, ok := arity[t]; ok {
			ops = append(ops, []string{t})
			continue
		}
		if len(ops) == 0 {
			return nil, fmt.Errorf("%q is not an operation (gamma, sigmoidal, saturation)", tok)
		}
		ops[len(ops)-1] = append(ops[len(ops)-1], t)
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("no operation")
	}
	var f ColorFormula
	for _, parts := range ops {
		op := colorOp{name: parts[0]}
		args := parts[1:]
		if op.name == "saturation" {
			op.bands = []int{0, 1, 2}
		} else {
			if len(args) == 0 {
				return nil, fmt.Errorf("%s needs bands (r, g, b or 1, 2, 3)", op.name)
			}
			seen := map[int]bool{}
			for _, c := range args[0] {
				b := strings.IndexRune("rgb", c)
				if b < 0 {
					b = strings.IndexRune("123", c)
				}
				if b < 0 {
					return nil, fmt.Errorf("%s: band %q is not r, g, b, 1, 2 or 3", op.name, c)
				}
				if !seen[b] {
					seen[b] = true
					op.bands = append(op.bands, b)
				}
			}
			args = args[1:]
		}
		if len(args) != arity[op.name] {
			return nil, fmt.Errorf("%s takes %d number(s), got %d", op.name, arity[op.name], len(args))
		}
		for _, a := range args {
			v, err := strconv.ParseFloat(a, 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: %q is not a number", op.name, a)
			}
			op.args = append(op.args, v)
		}
		switch {
		case op.name == "gamma" && !(op.args[0] > 0):
			return nil, fmt.Errorf("gamma must be positive")
		case op.name == "sigmoidal" && (op.args[1] < 0 || op.args[1] > 1):
			return nil, fmt.Errorf("sigmoidal bias must be in 0..1")
		case op.name == "saturation" && op.args[0] < 0:
			return nil, fmt.Errorf("saturation must not be negative")
		}
		f = append(f, op)
	}
	return f, nil
}

// Apply runs the formula on img as titiler does: values scaled to 0..1 by
// their data type's maximum (255 for 8-bit, 65535 for 16-bit; others are
// taken as 0..1), each operation's result cut back to 8 bits. It returns a
// uint8 image with new planes (raster.NewPlane) and img's mask.
func (f ColorFormula) Apply(img *raster.Image) (*raster.Image, error) {
	scale := 1.0
	switch img.DataType {
	case raster.Uint8:
		scale = 255
	case raster.Uint16:
		scale = 65535
	}
	out := &raster.Image{Width: img.Width, Height: img.Height, DataType: raster.Uint8, CRS: img.CRS, Bounds: img.Bounds,
		BandNames: append([]string(nil), img.BandNames...), Mask: img.Mask}
	for _, b := range img.Bands {
		nb := raster.NewPlane(len(b))
		for j, v := range b {
			nb[j] = min(max(v/scale, 0), 1)
		}
		out.Bands = append(out.Bands, nb)
	}
	for _, op := range f {
		for _, b := range op.bands {
			if b >= len(out.Bands) {
				out.Release()
				return nil, fmt.Errorf("%w: %s needs band %d, the image has %d", ErrBandCount, op.name, b+1, len(out.Bands))
			}
		}
		switch op.name {
		case "gamma":
			e := 1 / op.args[0]
			for _, b := range op.bands {
				for j, v := range out.Bands[b] {
					out.Bands[b][j] = to8(math.Pow(v, e))
				}
			}
		case "sigmoidal":
			curve := sigmoidal(op.args[0], op.args[1])
			for _, b := range op.bands {
				for j, v := range out.Bands[b] {
					out.Bands[b][j] = to8(curve(v))
				}
			}
		case "saturation":
			r, g, b := out.Bands[0], out.Bands[1], out.Bands[2]
			for j := range r {
				L, c, h := rgbToLCh(r[j], g[j], b[j])
				r[j], g[j], b[j] = lchToRGB(L, c*op.args[0], h)
				r[j], g[j], b[j] = to8(r[j]), to8(g[j]), to8(b[j])
			}
		}
	}
	for _, b := range out.Bands {
		for j, v := range b {
			b[j] = math.Floor(v*255 + 1e-9) // v is k/255 after an operation
		}
	}
	return out, nil
}

// to8 cuts v (0..1) to the 8-bit value below it, as 0..1: rio-tiler
// stores each operation's result as uint8 before the next one.
func to8(v float64) float64 {
	if !(v > 0) { // also NaN
		return 0
	}
	if v >= 1 {
		return 1
	}
	return math.Floor(v*255) / 255
}

// sigmoidal returns the sigmoidal contrast curve on 0..1 with contrast
// beta centred on alpha: the logistic function rescaled to pass through
// (0, 0) and (1, 1); a negative beta gives its inverse, 0 the identity.
func sigmoidal(beta, alpha float64) func(float64) float64 {
	if beta == 0 {
		return func(v float64) float64 { return v }
	}
	if alpha == 0 {
		alpha = math.SmallestNonzeroFloat32
	}
	logistic := func(x float64) float64 { return 1 / (1 + math.Exp(beta*(alpha-x))) }
	lo, hi := logistic(0), logistic(1)
	if beta > 0 {
		return func(v float64) float64 { return (logistic(v) - lo) / (hi - lo) }
	}
	// The inverse: solve logistic(x) = lo + v*(hi - lo) for x.
	return func(v float64) float64 {
		y := lo + v*(hi-lo)
		return alpha - math.Log(1/y-1)/beta
	}
}

// CIE constants (D65 white, simplified sRGB with gamma 2.2, as rio-color).
const (
	labDelta = 6.0 / 29
	labT0    = labDelta * labDelta * labDelta
	srgbGam  = 2.2
	whiteX   = 0.95047
	whiteZ   = 1.08883
)

func labF(t float64) float64 {
	if t > labT0 {
		return math.Cbrt(t)
	}
	return t/(3*labDelta*labDelta) + 4.0/29
}

func labFInv(t float64) float64 {
	if t > labDelta {
		return t * t * t
	}
	return 3 * labDelta * labDelta * (t - 4.0/29)
}

func rgbToLCh(r, g, b float64) (L, c, h float64) {
	rl, gl, bl := math.Pow(r, srgbGam), math.Pow(g, srgbGam), math.Pow(b, srgbGam)
	x := (0.4124*rl + 0.3576*gl + 0.1805*bl) / whiteX
	y := 0.2126*rl + 0.7152*gl + 0.0722*bl
	z := (0.0193*rl + 0.1192*gl + 0.9505*bl) / whiteZ
	fx, fy, fz := labF(x), labF(y), labF(z)
	L = 116*fy - 16
	a, bb := 500*(fx-fy), 200*(fy-fz)
	return L, math.Hypot(a, bb), math.Atan2(bb, a)
}

func lchToRGB(L, c, h float64) (r, g, b float64) {
	a, bb := c*math.Cos(h), c*math.Sin(h)
	fy := (L + 16) / 116
	x, y, z := labFInv(fy+a/500)*whiteX, labFInv(fy), labFInv(fy-bb/200)*whiteZ
	lin := func(v float64) float64 { return math.Pow(min(max(v, 0), 1), 1/srgbGam) }
	return lin(3.2406*x - 1.5372*y - 0.4986*z), lin(-0.9689*x + 1.8758*y + 0.0415*z), lin(0.0557*x - 0.2040*y + 1.0570*z)
}
