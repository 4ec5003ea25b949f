package render

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zlib"
)

// pngWriter encodes 8-bit gray, RGB and RGBA PNGs straight from rows of
// bytes. It does what image/png does at BestSpeed with three savings that
// matter for tiles: klauspost/compress's level-1 deflate (about half the
// CPU of compress/flate's BestSpeed, and slightly smaller output), rows are
// filled from the bands directly (no image.Image
// and no per-pixel interface calls), and the filter is chosen per row among
// Up, Sub and Paeth only, on a sample of the row (image/png computes all
// five filters in full for every row).
type pngWriter struct {
	zw   *zlib.Writer
	buf  bytes.Buffer
	cur  []byte // current raw row
	prev []byte // previous raw row (zeros for the first row)
	out  [1][]byte
}

var pngWriters = sync.Pool{New: func() any {
	zw, _ := zlib.NewWriterLevel(nil, flate.BestSpeed)
	return &pngWriter{zw: zw}
}}

// PNG color types.
const (
	pngGray = 0
	pngRGB  = 2
	pngRGBA = 6
)

// encodePNG8 writes a w×h 8-bit PNG with ch channels (1: gray, 3: RGB,
// 4: RGBA); fill writes row y (w*ch bytes) into row.
func encodePNG8(w, h, ch int, fill func(y int, row []byte)) ([]byte, error) {
	pw := pngWriters.Get().(*pngWriter)
	defer pngWriters.Put(pw)
	n := w * ch
	pw.cur = grow(pw.cur, n)
	pw.prev = grow(pw.prev, n)
	clear(pw.prev)
	for i := range pw.out {
		pw.out[i] = grow(pw.out[i], n+1)
	}
	pw.buf.Reset()
	out := &pw.buf
	out.Grow(w*h*ch/3 + 1024)
	out.WriteString("\x89PNG\r\n\x1a\n")
	var ihdr [13]byte
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8] = 8
	switch ch {
	case 1:
		ihdr[9] = pngGray
	case 3:
		ihdr[9] = pngRGB
	default:
		ihdr[9] = pngRGBA
	}
	writeChunk(out, "IHDR", ihdr[:])

	// IDAT: length placeholder, type, zlib stream, then CRC.
	start := out.Len()
	out.WriteString("\x00\x00\x00\x00IDAT")
	pw.zw.Reset(out)
	for y := 0; y < h; y++ {
		fill(y, pw.cur)
		if _, err := pw.zw.Write(pw.filter(pw.cur, ch)); err != nil {
			return nil, err
		}
		pw.prev, pw.cur = pw.cur, pw.prev
	}
	if err := pw.zw.Close(); err != nil {
		return nil, err
	}
	b := out.Bytes()
	binary.BigEndian.PutUint32(b[start:], uint32(len(b)-start-8))
	crc := crc32.ChecksumIEEE(b[start+4:])
	var c [4]byte
	binary.BigEndian.PutUint32(c[:], crc)
	out.Write(c[:])
	writeChunk(out, "IEND", nil)
	return bytes.Clone(out.Bytes()), nil
}

func writeChunk(out *bytes.Buffer, typ string, data []byte) {
	var hdr [8]byte
	binary.BigEndian.PutUint32(hdr[:4], uint32(len(data)))
	copy(hdr[4:], typ)
	out.Write(hdr[:])
	out.Write(data)
	crc := crc32.NewIEEE()
	crc.Write(hdr[4:])
	crc.Write(data)
	var c [4]byte
	binary.BigEndian.PutUint32(c[:], crc.Sum32())
	out.Write(c[:])
}

func grow(b []byte, n int) []byte {
	if cap(b) < n {
		return make([]byte, n)
	}
	return b[:n]
}

// filter returns the filtered row (filter type byte first). The filter is
// chosen per row among Up, Sub and Paeth by libpng's heuristic (smallest
// sum of absolute values), estimated on every 8th byte; only the chosen
// filter is then computed for the whole row.
func (pw *pngWriter) filter(raw []byte, bpp int) []byte {
	prev := pw.prev
	n := len(raw)
	out := pw.out[0][:n+1]
	var sUp, sSub, sPa int
	for i := bpp; i < n; i += 8 {
		a, b, c := raw[i-bpp], prev[i], prev[i-bpp]
		sUp += abs8(raw[i] - b)
		sSub += abs8(raw[i] - a)
		sPa += abs8(raw[i] - paeth(a, b, c))
	}
	switch {
	case sUp <= sSub && sUp <= sPa:
		out[0] = 2
		for i := 0; i < n; i++ {
			out[i+1] = raw[i] - prev[i]
		}
	case sSub <= sPa:
		out[0] = 1
		copy(out[1:1+bpp], raw[:bpp])
		for i := bpp; i < n; i++ {
			out[i+1] = raw[i] - raw[i-bpp]
		}
	default:
		out[0] = 4
		for i := 0; i < bpp; i++ {
			out[i+1] = raw[i] - prev[i] // a = c = 0: Paeth predicts b
		}
		paethRow(out[1+bpp:], raw[bpp:], raw, prev[bpp:], prev)
	}
	return out
}

// paethRow writes dst[i] = cur[i] - paeth(left[i], up[i], upLeft[i]);
// left and upLeft are cur and up shifted by one pixel.
func paethRow(dst, cur, left, up, upLeft []byte) {
	n := len(cur)
	dst, left, up, upLeft = dst[:n], left[:n], up[:n], upLeft[:n]
	for i := 0; i < n; i++ {
		a, b, c := int(left[i]), int(up[i]), int(upLeft[i])
		pa := iabs(b - c)
		pb := iabs(a - c)
		pc := iabs(a + b - 2*c)
		pred := a
		if pb < pa {
			pa, pred = pb, b
		}
		if pc < pa {
			pred = c
		}
		dst[i] = cur[i] - byte(pred)
	}
}

// paeth is the PNG Paeth predictor.
func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := iabs(p-int(a)), iabs(p-int(b)), iabs(p-int(c))
	if pa <= pb && pa <= pc {
		return a
	}
	if pb <= pc {
		return b
	}
	return c
}

func abs8(v byte) int {
	if v < 128 {
		return int(v)
	}
	return 256 - int(v)
}

func iabs(v int) int {
	m := v >> 63
	return (v ^ m) - m
}
