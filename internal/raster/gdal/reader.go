//go:build gdal

package gdal

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/airbusgeo/godal"

	"github.com/tessera-geo/tessera/internal/raster"
)

// Reader opens sources with GDAL and pools their handles (see the package
// documentation for the thread model).
type Reader struct {
	cfg Config
	log *slog.Logger

	budget *warpBudget // memory of the warpers kept by handles
	// ready is closed once GDAL is configured (drivers registered, CPL
	// options set): New does that in the background, beside the rest of
	// the process's start-up, and every entry point waits for it.
	ready chan struct{}

	mu      sync.Mutex
	lru     *list.List // of *source, most recent first
	sources map[string]*list.Element
	closed  bool
}

// New returns a Reader. It configures GDAL (process-global, see Configure)
// and warms it up (see warmUp) in the background.
func New(cfg Config, log *slog.Logger) (*Reader, error) {
	cfg.Defaults()
	if cfg.MaxSources < 1 || cfg.HandlesPerSource < 1 || cfg.LocalHandlesPerSource < 1 {
		return nil, fmt.Errorf("gdal: MaxSources, HandlesPerSource and LocalHandlesPerSource must be positive")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Reader{cfg: cfg, log: log, budget: &warpBudget{max: int64(cfg.WarpCacheMB) << 20}, ready: make(chan struct{}),
		lru: list.New(), sources: map[string]*list.Element{}}
	go func() {
		Configure(cfg)
		close(r.ready)
		if err := r.warmUp("/vsimem/tessera-warm-" + strconv.FormatUint(vsimemSeq.Add(1), 10) + ".tif"); err != nil {
			r.log.Warn("gdal warm-up failed (first tiles will be slower)", "err", err)
		}
	}()
	return r, nil
}

// Close closes every idle handle; busy handles close when released.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for e := r.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*source).evict()
	}
	r.lru.Init()
	r.sources = map[string]*list.Element{}
	return nil
}

// Stats reports pool figures (for tests and metrics).
type Stats struct{ Sources, OpenHandles int }

// Stats returns the current pool figures.
func (r *Reader) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Stats{Sources: r.lru.Len()}
	for e := r.lru.Front(); e != nil; e = e.Next() {
		src := e.Value.(*source)
		src.mu.Lock()
		s.OpenHandles += src.open
		src.mu.Unlock()
	}
	return s
}

// GDALPath maps an href to the path GDAL opens: s3://b/k → /vsis3/b/k,
// http(s)://... → /vsicurl/http(s)://..., file:///p → /p.
func GDALPath(href string) (string, error) {
	switch {
	case strings.HasPrefix(href, "s3://"):
		return "/vsis3/" + strings.TrimPrefix(href, "s3://"), nil
	case strings.HasPrefix(href, "http://"), strings.HasPrefix(href, "https://"):
		return "/vsicurl/" + href, nil
	case strings.HasPrefix(href, "file://"):
		return strings.TrimPrefix(href, "file://"), nil
	case strings.HasPrefix(href, "/vsi"):
		return "", &raster.Error{Op: "open", Href: href, Err: raster.ErrUnsupported, Reason: "GDAL virtual paths are not accepted"}
	case strings.Contains(href, "://"):
		return "", &raster.Error{Op: "open", Href: href, Err: raster.ErrUnsupported, Reason: "unknown URL scheme"}
	default:
		return href, nil
	}
}

// isLocal tells whether href names a local file (GDALPath passes it as is).
func isLocal(href string) bool {
	return !strings.Contains(href, "://") || strings.HasPrefix(href, "file://")
}

// Open returns the dataset for href, opening a first handle when the source
// is not cached.
func (r *Reader) Open(ctx context.Context, href string, _ raster.OpenOptions) (raster.Dataset, error) {
	select {
	case <-r.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, errors.New("gdal: reader closed")
	}
	if e, ok := r.sources[href]; ok {
		r.lru.MoveToFront(e)
		src := e.Value.(*source)
		r.mu.Unlock()
		if err := src.ready(ctx); err != nil {
			return nil, err
		}
		return &dataset{src: src}, nil
	}
	path, err := GDALPath(href)
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	handles := r.cfg.HandlesPerSource
	if isLocal(href) {
		handles = r.cfg.LocalHandlesPerSource
	}
	src := r.newSource(href, path, handles)
	r.sources[href] = r.lru.PushFront(src)
	for r.lru.Len() > r.cfg.MaxSources {
		old := r.lru.Back()
		r.lru.Remove(old)
		os := old.Value.(*source)
		delete(r.sources, os.href)
		os.evict()
	}
	r.mu.Unlock()

	src.init()
	if src.err != nil {
		// Do not cache failures: the source may appear later.
		r.mu.Lock()
		if e, ok := r.sources[href]; ok && e.Value.(*source) == src {
			r.lru.Remove(e)
			delete(r.sources, href)
		}
		r.mu.Unlock()
		src.evict()
		return nil, src.err
	}
	return &dataset{src: src}, nil
}

func (r *Reader) newSource(href, path string, handles int) *source {
	return &source{href: href, path: path, cfg: &r.cfg, budget: r.budget, sem: make(chan struct{}, handles), done: make(chan struct{}),
		bounds: map[string][4]float64{}, ratios: map[ratioKey]float64{}}
}

// source is one href: its Info and its pool of handles.
type source struct {
	href   string
	path   string
	cfg    *Config
	budget *warpBudget

	done chan struct{} // closed once init finished
	err  error
	info raster.Info
	// alphaBand is the 1-based index of the source alpha band (0: none).
	alphaBand int
	dataBands []int

	sem chan struct{} // one token per handle in use

	mu      sync.Mutex
	idle    []*handle
	open    int
	evicted bool
	bounds  map[string][4]float64
	ratios  map[ratioKey]float64 // gdalwarp's overview measure per grid
}

func (s *source) ready(ctx context.Context) error {
	select {
	case <-s.done:
		return s.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *source) init() {
	defer close(s.done)
	h, err := godal.Open(s.path, godal.RasterOnly(), godal.SkipWarnings)
	if err != nil {
		s.err = openError(s.href, s.path, err)
		return
	}
	info, alpha, data, err := describe(h, s.href)
	if err != nil {
		_ = h.Close(godal.SkipWarnings)
		s.err = err
		return
	}
	if err := checkHandle(h); err != nil {
		_ = h.Close(godal.SkipWarnings)
		s.err = &raster.Error{Op: "open", Href: s.href, Err: raster.ErrUnreadable, Reason: err.Error()}
		return
	}
	s.info, s.alphaBand, s.dataBands = info, alpha, data
	s.mu.Lock()
	s.idle = append(s.idle, newHandle(h, s.path, s.budget))
	s.open++
	s.mu.Unlock()
}

func openError(href, path string, err error) error {
	kind := raster.ErrUnreadable
	if !strings.HasPrefix(path, "/vsi") {
		if _, serr := os.Stat(path); errors.Is(serr, os.ErrNotExist) {
			kind = raster.ErrSourceNotFound
		}
	} else if msg := err.Error(); strings.Contains(msg, "404") || strings.Contains(msg, "does not exist") {
		// HTTP 404; /vsicurl's "does not exist in the file system"; S3's
		// NoSuchKey and NoSuchBucket ("The specified key does not exist.").
		kind = raster.ErrSourceNotFound
	}
	return &raster.Error{Op: "open", Href: href, Err: kind, Reason: err.Error()}
}

// acquire takes a handle, opening one when none is idle and the pool is not
// full, waiting otherwise.
func (s *source) acquire(ctx context.Context) (*handle, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	if n := len(s.idle); n > 0 {
		h := s.idle[n-1]
		s.idle = s.idle[:n-1]
		s.mu.Unlock()
		return h, nil
	}
	s.open++
	s.mu.Unlock()
	h, err := godal.Open(s.path, godal.RasterOnly(), godal.SkipWarnings)
	if err != nil {
		s.mu.Lock()
		s.open--
		s.mu.Unlock()
		<-s.sem
		return nil, openError(s.href, s.path, err)
	}
	return newHandle(h, s.path, s.budget), nil
}

func (s *source) release(h *handle) {
	s.mu.Lock()
	if s.evicted {
		s.open--
		s.mu.Unlock()
		h.close()
	} else {
		s.idle = append(s.idle, h)
		s.mu.Unlock()
	}
	<-s.sem
}

func (s *source) evict() {
	s.mu.Lock()
	s.evicted = true
	idle := s.idle
	s.idle = nil
	s.open -= len(idle)
	s.mu.Unlock()
	for _, h := range idle {
		h.close()
	}
}

// describe builds the Info of an opened handle.
func describe(h *godal.Dataset, href string) (raster.Info, int, []int, error) {
	st := h.Structure()
	info := raster.Info{Href: href, Driver: h.Driver().ShortName(), Width: st.SizeX, Height: st.SizeY}
	gt, err := h.GeoTransform(godal.SkipWarnings)
	if err != nil {
		return info, 0, nil, &raster.Error{Op: "open", Href: href, Err: raster.ErrUnreadable, Reason: "no geotransform: the source is not georeferenced"}
	}
	info.GeoTransform = gt
	info.CRS = h.Projection()
	if info.CRS == "" {
		return info, 0, nil, &raster.Error{Op: "open", Href: href, Err: raster.ErrUnreadable, Reason: "no CRS: the source is not georeferenced"}
	}
	sr := h.SpatialRef()
	if sr != nil {
		if sr.AuthorityName("") == "EPSG" {
			fmt.Sscan(sr.AuthorityCode(""), &info.EPSG)
		}
		sr.Close()
	}
	bands := h.Bands()
	alpha := 0
	var data []int
	for i, b := range bands {
		if b.ColorInterp() == godal.CIAlpha {
			alpha = i + 1
			continue
		}
		data = append(data, i+1)
	}
	if len(data) == 0 {
		return info, 0, nil, &raster.Error{Op: "open", Href: href, Err: raster.ErrUnreadable, Reason: "no data bands"}
	}
	info.BandCount = len(data)
	info.HasAlpha = alpha != 0
	first := bands[data[0]-1]
	info.DataType = dataType(first.Structure().DataType)
	if nd, ok := first.NoData(); ok {
		info.Nodata = &nd
	}
	const gmfPerDataset = 0x02
	const gmfAllValid = 0x01
	if mf := first.MaskFlags(); mf&gmfPerDataset != 0 && mf&gmfAllValid == 0 && alpha == 0 && info.Nodata == nil {
		info.HasMask = true
	}
	for _, o := range first.Overviews() {
		info.Overviews = append(info.Overviews, o.Structure().SizeX)
	}
	for n, i := range data {
		b := bands[i-1]
		bi := raster.BandInfo{Name: fmt.Sprintf("b%d", n+1), Description: b.Description(), ColorInterp: b.ColorInterp().Name(), Scale: 1, Metadata: b.Metadatas()}
		if nd, ok := b.NoData(); ok {
			bi.Nodata = &nd
		}
		bi.Scale, bi.Offset = scaleOffset(b)
		info.Bands = append(info.Bands, bi)
	}
	info.Bounds = [4]float64{gt[0], gt[3] + float64(st.SizeY)*gt[5], gt[0] + float64(st.SizeX)*gt[1], gt[3]}
	if info.Bounds[1] > info.Bounds[3] {
		info.Bounds[1], info.Bounds[3] = info.Bounds[3], info.Bounds[1]
	}
	gb, err := transformBounds(info.CRS, "EPSG:4326", info.Bounds)
	if err != nil {
		return info, 0, nil, &raster.Error{Op: "open", Href: href, Err: raster.ErrUnreadable, Reason: err.Error()}
	}
	info.GeoBounds = gb
	return info, alpha, data, nil
}

func scaleOffset(b godal.Band) (float64, float64) {
	st := b.Structure()
	if st.Scale == 0 {
		return 1, st.Offset
	}
	return st.Scale, st.Offset
}

func dataType(t godal.DataType) raster.DataType {
	switch t {
	case godal.Byte:
		return raster.Uint8
	case godal.UInt16:
		return raster.Uint16
	case godal.Int16:
		return raster.Int16
	case godal.UInt32:
		return raster.Uint32
	case godal.Int32:
		return raster.Int32
	case godal.Float32:
		return raster.Float32
	default:
		return raster.Float64
	}
}

// TransformBounds reprojects bounds b (x/y order) from one CRS to another,
// densifying its edges: mosaics use it for tile matrix sets and previews
// in any CRS (tiles.BoundsTransformer).
func (r *Reader) TransformBounds(_ context.Context, b [4]float64, from, to string) ([4]float64, error) {
	<-r.ready
	return transformBounds(from, to, b)
}

// transformBounds reprojects a bbox by densifying its edges.
func transformBounds(srcCRS, dstCRS string, b [4]float64) ([4]float64, error) {
	src, err := newSRS(srcCRS)
	if err != nil {
		return b, err
	}
	defer src.Close()
	dst, err := newSRS(dstCRS)
	if err != nil {
		return b, err
	}
	defer dst.Close()
	if src.IsSame(dst) {
		return b, nil
	}
	tr, err := godal.NewTransform(src, dst, godal.SkipWarnings)
	if err != nil {
		return b, fmt.Errorf("transform %s: %w", dstCRS, err)
	}
	defer tr.Close()
	const n = 32
	xs := make([]float64, 0, 4*n+1)
	ys := make([]float64, 0, 4*n+1)
	for i := 0; i <= n; i++ {
		f := float64(i) / n
		x := b[0] + f*(b[2]-b[0])
		y := b[1] + f*(b[3]-b[1])
		xs = append(xs, x, x, b[0], b[2])
		ys = append(ys, b[1], b[3], y, y)
	}
	// also the centre, for sources crossing a pole
	xs = append(xs, (b[0]+b[2])/2)
	ys = append(ys, (b[1]+b[3])/2)
	ok := make([]bool, len(xs))
	_ = tr.TransformEx(xs, ys, make([]float64, len(xs)), ok)
	out := [4]float64{math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)}
	any := false
	for i := range xs {
		if !ok[i] || math.IsInf(xs[i], 0) || math.IsNaN(xs[i]) || math.IsInf(ys[i], 0) || math.IsNaN(ys[i]) {
			continue
		}
		any = true
		out[0] = math.Min(out[0], xs[i])
		out[1] = math.Min(out[1], ys[i])
		out[2] = math.Max(out[2], xs[i])
		out[3] = math.Max(out[3], ys[i])
	}
	if !any {
		return b, fmt.Errorf("bounds cannot be expressed in %s", dstCRS)
	}
	return out, nil
}

func newSRS(s string) (*godal.SpatialRef, error) {
	if strings.HasPrefix(s, "EPSG:") {
		var code int
		if _, err := fmt.Sscan(strings.TrimPrefix(s, "EPSG:"), &code); err == nil {
			return godal.NewSpatialRefFromEPSG(code, godal.SkipWarnings)
		}
	}
	if strings.Contains(s, "[") {
		return godal.NewSpatialRefFromWKT(s, godal.SkipWarnings)
	}
	return godal.NewSpatialRef(s, godal.SkipWarnings)
}

var _ raster.Reader = (*Reader)(nil)
