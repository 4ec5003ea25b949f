package render

import (
	"bytes"
	"encoding/binary"
	"math"
	"sort"

	"github.com/tessera-geo/tessera/internal/raster"
)

// EncodeGeoTIFF writes an uncompressed, band-separate (planar) GeoTIFF in
// the image's data type, georeferenced by img.Bounds and opts.EPSG. With
// opts.ReturnMask the mask is written as an extra alpha band (0 or the
// type's maximum).
func EncodeGeoTIFF(img *raster.Image, opts Options) ([]byte, error) {
	dt := img.DataType
	if dt == "" {
		dt = raster.Float64
	}
	w, h := img.Width, img.Height
	bands := img.Bands
	alpha := opts.ReturnMask && img.Mask != nil
	if alpha {
		_, hi := dt.Range()
		if !dt.IsInteger() {
			hi = 255
		}
		m := make([]float64, w*h)
		for i := range m {
			if img.Valid(i) {
				m[i] = hi
			}
		}
		bands = append(append([][]float64(nil), bands...), m)
	}
	spp := len(bands)
	bps := uint16(dt.Size() * 8)
	sf := uint16(1)
	switch dt {
	case raster.Int8, raster.Int16, raster.Int32:
		sf = 2
	case raster.Float32, raster.Float64:
		sf = 3
	}

	// pixel data
	var data bytes.Buffer
	offsets := make([]uint32, spp)
	counts := make([]uint32, spp)
	const headerSize = 8
	for i, b := range bands {
		offsets[i] = uint32(headerSize + data.Len())
		writeSamples(&data, b, dt)
		counts[i] = uint32(w * h * dt.Size())
	}

	type entry struct {
		tag, typ uint16
		count    uint32
		val      []byte
	}
	le := binary.LittleEndian
	shorts := func(v ...uint16) []byte {
		b := make([]byte, 2*len(v))
		for i, x := range v {
			le.PutUint16(b[2*i:], x)
		}
		return b
	}
	longs := func(v ...uint32) []byte {
		b := make([]byte, 4*len(v))
		for i, x := range v {
			le.PutUint32(b[4*i:], x)
		}
		return b
	}
	doubles := func(v ...float64) []byte {
		b := make([]byte, 8*len(v))
		for i, x := range v {
			le.PutUint64(b[8*i:], math.Float64bits(x))
		}
		return b
	}
	rep := func(v uint16) []uint16 {
		out := make([]uint16, spp)
		for i := range out {
			out[i] = v
		}
		return out
	}
	const tShort, tLong, tDouble = 3, 4, 12
	photometric := uint16(1)
	entries := []entry{
		{256, tLong, 1, longs(uint32(w))},
		{257, tLong, 1, longs(uint32(h))},
		{258, tShort, uint32(spp), shorts(rep(bps)...)},
		{259, tShort, 1, shorts(1)},
		{262, tShort, 1, shorts(photometric)},
		{273, tLong, uint32(spp), longs(offsets...)},
		{277, tShort, 1, shorts(uint16(spp))},
		{278, tLong, 1, longs(uint32(h))},
		{279, tLong, uint32(spp), longs(counts...)},
		{284, tShort, 1, shorts(2)},
		{339, tShort, uint32(spp), shorts(rep(sf)...)},
	}
	if spp > 1 {
		extra := make([]uint16, spp-1)
		if alpha {
			extra[len(extra)-1] = 2
		}
		entries = append(entries, entry{338, tShort, uint32(len(extra)), shorts(extra...)})
	}
	b := img.Bounds
	if b[2] > b[0] && b[3] > b[1] {
		entries = append(entries,
			entry{33550, tDouble, 3, doubles((b[2]-b[0])/float64(w), (b[3]-b[1])/float64(h), 0)},
			entry{33922, tDouble, 6, doubles(0, 0, 0, b[0], b[3], 0)})
	}
	if opts.EPSG > 0 {
		model, key := uint16(1), uint16(3072)
		if opts.EPSG == 4326 || (opts.EPSG >= 4000 && opts.EPSG < 5000) {
			model, key = 2, 2048
		}
		entries = append(entries, entry{34735, tShort, 16, shorts(1, 1, 0, 3, 1024, 0, 1, model, 1025, 0, 1, 1, key, 0, 1, uint16(opts.EPSG))})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].tag < entries[j].tag })

	ifdOffset := uint32(headerSize + data.Len())
	ifdOffset += ifdOffset % 2
	ifdSize := uint32(2 + 12*len(entries) + 4)
	extraOffset := ifdOffset + ifdSize
	var ifd, extra bytes.Buffer
	_ = binary.Write(&ifd, le, uint16(len(entries)))
	for _, e := range entries {
		_ = binary.Write(&ifd, le, e.tag)
		_ = binary.Write(&ifd, le, e.typ)
		_ = binary.Write(&ifd, le, e.count)
		if len(e.val) <= 4 {
			v := make([]byte, 4)
			copy(v, e.val)
			ifd.Write(v)
		} else {
			_ = binary.Write(&ifd, le, extraOffset+uint32(extra.Len()))
			extra.Write(e.val)
			if extra.Len()%2 == 1 {
				extra.WriteByte(0)
			}
		}
	}
	_ = binary.Write(&ifd, le, uint32(0))

	var out bytes.Buffer
	out.WriteString("II")
	_ = binary.Write(&out, le, uint16(42))
	_ = binary.Write(&out, le, ifdOffset)
	out.Write(data.Bytes())
	for uint32(out.Len()) < ifdOffset {
		out.WriteByte(0)
	}
	out.Write(ifd.Bytes())
	out.Write(extra.Bytes())
	return out.Bytes(), nil
}
