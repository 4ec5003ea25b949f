//go:build gdal

package gdal

import (
	"fmt"
	"io"
	"strconv"
	"sync/atomic"

	"github.com/airbusgeo/godal"

	"github.com/tessera-geo/tessera/internal/raster"
)

var vsimemSeq atomic.Uint64

// EncodeImage implements raster.ImageEncoder for "webp" with GDAL's WEBP
// driver. img must hold 3 (RGB) or 4 (RGBA) 8-bit bands.
func (r *Reader) EncodeImage(img *raster.Image, format string, quality int) ([]byte, error) {
	<-r.ready
	if format != "webp" {
		return nil, &raster.Error{Op: "encode", Err: raster.ErrUnsupported, Reason: "format " + format}
	}
	if _, ok := godal.RasterDriver("WEBP"); !ok {
		return nil, &raster.Error{Op: "encode", Err: raster.ErrUnsupported, Reason: "GDAL has no WEBP driver"}
	}
	nb := len(img.Bands)
	if nb != 3 && nb != 4 {
		return nil, &raster.Error{Op: "encode", Err: raster.ErrUnsupported, Reason: fmt.Sprintf("WebP needs 3 or 4 bands, got %d", nb)}
	}
	mem, err := godal.Create(godal.Memory, "", nb, godal.Byte, img.Width, img.Height, godal.SkipWarnings)
	if err != nil {
		return nil, err
	}
	defer mem.Close(godal.SkipWarnings)
	n := img.Width * img.Height
	buf := make([]byte, n*nb)
	for b := 0; b < nb; b++ {
		for i, v := range img.Bands[b] {
			buf[b*n+i] = byte(v)
		}
	}
	if err := mem.Write(0, 0, buf, img.Width, img.Height, godal.BandInterleaved(), godal.SkipWarnings); err != nil {
		return nil, err
	}
	if nb == 4 {
		_ = mem.Bands()[3].SetColorInterp(godal.CIAlpha, godal.SkipWarnings)
	}
	if quality <= 0 {
		quality = 85
	}
	name := "/vsimem/tessera-" + strconv.FormatUint(vsimemSeq.Add(1), 10) + ".webp"
	out, err := mem.Translate(name, []string{"-of", "WEBP", "-co", "QUALITY=" + strconv.Itoa(quality)}, godal.SkipWarnings)
	if err != nil {
		return nil, &raster.Error{Op: "encode", Err: raster.ErrUnsupported, Reason: err.Error()}
	}
	_ = out.Close(godal.SkipWarnings)
	defer godal.VSIUnlink(name)
	f, err := godal.VSIOpen(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

var _ raster.ImageEncoder = (*Reader)(nil)
