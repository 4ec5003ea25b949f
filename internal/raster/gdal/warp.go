//go:build gdal

package gdal

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <string.h>
#include <gdal.h>
#include <gdal_alg.h>
#include <gdalwarper.h>
#include <cpl_conv.h>
#include <cpl_error.h>
#include <cpl_string.h>

// A reusable warp from one source dataset into windows of one size in one
// CRS: what GDALWarp (gdalwarp -of MEM -dstalpha) builds for every call,
// built once. Per window only the destination geotransform changes.
typedef struct {
	void *gen;             // GenImgProj transformer (owned by approx)
	void *approx;          // approximating transformer, 0.125 px like gdalwarp
	GDALWarpOperationH op; // owns a copy of the warp options
	GDALDatasetH dst;      // MEM, w x h, nb data bands + alpha
	int w, h, nb;
} tsrWarper;

static void tsrSetErr(char *err) {
	const char *m = CPLGetLastErrorMsg();
	strncpy(err, m && *m ? m : "GDAL error", 511);
	err[511] = 0;
}

static void tsrWarperFree(tsrWarper *wp) {
	if (!wp) return;
	if (wp->op) GDALDestroyWarpOperation(wp->op);
	if (wp->approx) GDALDestroyApproxTransformer(wp->approx);
	else if (wp->gen) GDALDestroyGenImgProjTransformer(wp->gen);
	if (wp->dst) GDALClose(wp->dst);
	free(wp);
}

static tsrWarper *tsrWarperNew(GDALDatasetH src, const char *dstWKT, int w, int h,
		int nb, const int *srcBands, int srcAlpha, GDALDataType dt, int alg,
		int hasNodata, double nodata, char *err) {
	CPLErrorReset();
	CPLPushErrorHandler(CPLQuietErrorHandler);
	tsrWarper *wp = calloc(1, sizeof(tsrWarper));
	wp->w = w; wp->h = h; wp->nb = nb;
	GDALDriverH mem = GDALGetDriverByName("MEM");
	wp->dst = mem ? GDALCreate(mem, "", w, h, nb + 1, dt, NULL) : NULL;
	char **to = CSLSetNameValue(NULL, "DST_SRS", dstWKT);
	wp->gen = wp->dst ? GDALCreateGenImgProjTransformer2(src, NULL, to) : NULL;
	CSLDestroy(to);
	if (!wp->gen) {
		tsrSetErr(err);
		tsrWarperFree(wp);
		CPLPopErrorHandler();
		return NULL;
	}
	wp->approx = GDALCreateApproxTransformer(GDALGenImgProjTransform, wp->gen, 0.125);
	GDALApproxTransformerOwnsSubtransformer(wp->approx, TRUE);

	GDALWarpOptions *wo = GDALCreateWarpOptions();
	wo->eResampleAlg = (GDALResampleAlg)alg;
	wo->hSrcDS = src;
	wo->hDstDS = wp->dst;
	wo->nBandCount = nb;
	wo->panSrcBands = CPLMalloc(sizeof(int) * nb);
	wo->panDstBands = CPLMalloc(sizeof(int) * nb);
	for (int i = 0; i < nb; i++) {
		wo->panSrcBands[i] = srcBands[i];
		wo->panDstBands[i] = i + 1;
	}
	wo->nSrcAlphaBand = srcAlpha;
	wo->nDstAlphaBand = nb + 1;
	wo->pfnTransformer = GDALApproxTransform;
	wo->pTransformerArg = wp->approx;
	wo->papszWarpOptions = CSLSetNameValue(NULL, "INIT_DEST", "0");
	// Source nodata as gdalwarp sets it: -srcnodata for every band, unified
	// over bands; otherwise each band's own value when any band has one.
	if (hasNodata) {
		wo->padfSrcNoDataReal = CPLMalloc(sizeof(double) * nb);
		wo->padfSrcNoDataImag = CPLCalloc(nb, sizeof(double));
		for (int i = 0; i < nb; i++) wo->padfSrcNoDataReal[i] = nodata;
		wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "UNIFIED_SRC_NODATA", "YES");
	} else {
		int any = 0;
		for (int i = 0; i < nb && !any; i++)
			GDALGetRasterNoDataValue(GDALGetRasterBand(src, srcBands[i]), &any);
		if (any) {
			wo->padfSrcNoDataReal = CPLMalloc(sizeof(double) * nb);
			wo->padfSrcNoDataImag = CPLCalloc(nb, sizeof(double));
			for (int i = 0; i < nb; i++) {
				int has = 0;
				double v = GDALGetRasterNoDataValue(GDALGetRasterBand(src, srcBands[i]), &has);
				wo->padfSrcNoDataReal[i] = has ? v : -123456.789;
			}
		}
	}
	wp->op = GDALCreateWarpOperation(wo);
	GDALDestroyWarpOptions(wo); // the operation keeps its own copy
	if (!wp->op) {
		tsrSetErr(err);
		tsrWarperFree(wp);
		CPLPopErrorHandler();
		return NULL;
	}
	CPLPopErrorHandler();
	return wp;
}

// tsrWarp warps the window whose geotransform is gt into the MEM dataset.
static int tsrWarp(tsrWarper *wp, const double *gt, char *err) {
	CPLErrorReset();
	CPLPushErrorHandler(CPLQuietErrorHandler);
	double g[6];
	memcpy(g, gt, sizeof g);
	GDALSetGenImgProjTransformerDstGeoTransform(wp->gen, g);
	CPLErr e = GDALChunkAndWarpImage(wp->op, 0, 0, wp->w, wp->h);
	if (e != CE_None) tsrSetErr(err);
	CPLPopErrorHandler();
	return e == CE_None;
}

// tsrRead reads band (1-based; nb+1 is the alpha band) of the last warp
// into buf as type dt.
static int tsrRead(tsrWarper *wp, int band, void *buf, GDALDataType dt, char *err) {
	CPLErrorReset();
	CPLPushErrorHandler(CPLQuietErrorHandler);
	CPLErr e = GDALRasterIO(GDALGetRasterBand(wp->dst, band), GF_Read, 0, 0, wp->w, wp->h,
		buf, wp->w, wp->h, dt, 0, 0);
	if (e != CE_None) tsrSetErr(err);
	CPLPopErrorHandler();
	return e == CE_None;
}

// tsrTargetRatio is gdalwarp's measure for choosing an overview: source
// pixels per destination pixel of the whole source warped to a grid with
// geotransform gt in dstWKT (GDALSuggestedWarpOutput2). 0 on failure.
static double tsrTargetRatio(GDALDatasetH src, const char *dstWKT, const double *gt) {
	CPLPushErrorHandler(CPLQuietErrorHandler);
	char **to = CSLSetNameValue(NULL, "DST_SRS", dstWKT);
	void *gen = GDALCreateGenImgProjTransformer2(src, NULL, to);
	CSLDestroy(to);
	double ratio = 0;
	if (gen) {
		double g[6], sgt[6], ext[4];
		memcpy(g, gt, sizeof g);
		GDALSetGenImgProjTransformerDstGeoTransform(gen, g);
		int np = 0, nl = 0;
		if (GDALSuggestedWarpOutput2(src, GDALGenImgProjTransform, gen, sgt, &np, &nl, ext, 0) == CE_None && sgt[1] != 0)
			ratio = 1.0 / sgt[1];
		GDALDestroyGenImgProjTransformer(gen);
	}
	CPLPopErrorHandler();
	return ratio;
}

static GDALDatasetH tsrOpenOverview(const char *path, int level, char *err) {
	CPLErrorReset();
	CPLPushErrorHandler(CPLQuietErrorHandler);
	char buf[32];
	snprintf(buf, sizeof buf, "OVERVIEW_LEVEL=%d", level);
	char *opts[] = {buf, NULL};
	GDALDatasetH h = GDALOpenEx(path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, (const char *const *)opts, NULL);
	if (!h) tsrSetErr(err);
	CPLPopErrorHandler();
	return h;
}
*/
import "C"

import (
	"errors"
	"sync/atomic"
	"unsafe"

	"github.com/airbusgeo/godal"

	"github.com/tessera-geo/tessera/internal/raster"
)

// cHandle returns the GDALDatasetH of a godal dataset. godal v0.0.18 keeps
// it unexported as the first (and only) field of Dataset; open checks the
// result against godal's own view of the dataset (see checkHandle).
func cHandle(ds *godal.Dataset) C.GDALDatasetH {
	return C.GDALDatasetH(*(*unsafe.Pointer)(unsafe.Pointer(ds)))
}

// checkHandle verifies that cHandle reads the right field.
func checkHandle(ds *godal.Dataset) error {
	st := ds.Structure()
	h := cHandle(ds)
	if h == nil || int(C.GDALGetRasterXSize(h)) != st.SizeX || int(C.GDALGetRasterYSize(h)) != st.SizeY || int(C.GDALGetRasterCount(h)) != st.NBands {
		return errors.New("gdal: cannot reach the GDAL handle of a godal dataset (godal's layout changed)")
	}
	return nil
}

// warpKey identifies a warper of a handle.
type warpKey struct {
	level      int // overview index, -1 for full resolution
	crs        string
	resampling raster.Resampling
	hasNodata  bool
	nodata     float64
	w, h       int
}

// warper is a C warper and what it reads.
type warper struct {
	c     *C.tsrWarper
	nb    int
	bytes int64 // of its MEM destination
}

func (wp *warper) close() { C.tsrWarperFree(wp.c) }

// warpBudget bounds the memory of the warpers kept by all handles of a
// Reader (their MEM destinations): a mosaic touches many sources with
// windows of many sizes, and each handle keeps up to maxWarpers.
type warpBudget struct {
	used atomic.Int64
	max  int64
}

func (b *warpBudget) take(n int64) bool {
	if b.used.Add(n) > b.max {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *warpBudget) give(n int64) { b.used.Add(-n) }

var resamplingAlg = map[raster.Resampling]C.int{
	raster.Nearest: C.GRA_NearestNeighbour, raster.Bilinear: C.GRA_Bilinear, raster.Cubic: C.GRA_Cubic,
	raster.CubicSpline: C.GRA_CubicSpline, raster.Lanczos: C.GRA_Lanczos, raster.Average: C.GRA_Average,
	raster.Mode: C.GRA_Mode, raster.Max: C.GRA_Max, raster.Min: C.GRA_Min, raster.Med: C.GRA_Med,
	raster.Q1: C.GRA_Q1, raster.Q3: C.GRA_Q3, raster.Sum: C.GRA_Sum, raster.RMS: C.GRA_RMS,
}

func cString(err *[512]C.char) string { return C.GoString(&err[0]) }

// newWarper builds a warper from src (a full-resolution handle or an
// overview dataset) for k, reading the data bands dataBands and the alpha
// band alpha (0: none).
func newWarper(src C.GDALDatasetH, k warpKey, dstWKT string, dataBands []int, alpha int) (*warper, error) {
	alg, ok := resamplingAlg[k.resampling]
	if !ok {
		return nil, errors.New("unknown resampling " + string(k.resampling))
	}
	nb := len(dataBands)
	cb := (*C.int)(C.malloc(C.size_t(nb) * C.size_t(unsafe.Sizeof(C.int(0)))))
	defer C.free(unsafe.Pointer(cb))
	bs := unsafe.Slice(cb, nb)
	for i, b := range dataBands {
		bs[i] = C.int(b)
	}
	dt := C.GDALGetRasterDataType(C.GDALGetRasterBand(src, C.int(dataBands[0])))
	size := int64(k.w) * int64(k.h) * int64(nb+1) * int64(C.GDALGetDataTypeSizeBytes(dt))
	cw := C.CString(dstWKT)
	defer C.free(unsafe.Pointer(cw))
	hasND := C.int(0)
	if k.hasNodata {
		hasND = 1
	}
	var cerr [512]C.char
	c := C.tsrWarperNew(src, cw, C.int(k.w), C.int(k.h), C.int(nb), cb, C.int(alpha), dt, alg, hasND, C.double(k.nodata), &cerr[0])
	if c == nil {
		return nil, errors.New(cString(&cerr))
	}
	return &warper{c: c, nb: nb, bytes: size}, nil
}

// warp warps the window with geotransform gt, then fills planes[i]
// (w×h float64) with warper band read[i] (1-based) and mask (w×h) with the
// alpha band.
func (wp *warper) warp(gt [6]float64, read []int, planes [][]float64, mask []uint8) error {
	var cerr [512]C.char
	if C.tsrWarp(wp.c, (*C.double)(unsafe.Pointer(&gt[0])), &cerr[0]) == 0 {
		return errors.New(cString(&cerr))
	}
	for i, b := range read {
		if C.tsrRead(wp.c, C.int(b), unsafe.Pointer(&planes[i][0]), C.GDT_Float64, &cerr[0]) == 0 {
			return errors.New(cString(&cerr))
		}
	}
	if C.tsrRead(wp.c, C.int(wp.nb+1), unsafe.Pointer(&mask[0]), C.GDT_Byte, &cerr[0]) == 0 {
		return errors.New(cString(&cerr))
	}
	return nil
}

// targetRatio is gdalwarp's source-pixels-per-destination-pixel measure.
func targetRatio(src C.GDALDatasetH, dstWKT string, gt [6]float64) float64 {
	cw := C.CString(dstWKT)
	defer C.free(unsafe.Pointer(cw))
	return float64(C.tsrTargetRatio(src, cw, (*C.double)(unsafe.Pointer(&gt[0]))))
}

// overviewLevel picks the overview gdalwarp picks for ratio (-ovr AUTO):
// -1 for full resolution. widths are the overview widths, finest first.
func overviewLevel(ratio float64, width int, widths []int) int {
	if ratio <= 1 || len(widths) == 0 {
		return -1
	}
	r := func(i int) float64 {
		if i < 0 {
			return 1
		}
		return float64(width) / float64(widths[i])
	}
	i := -1
	for ; i < len(widths)-1; i++ {
		if r(i) < ratio && r(i+1) > ratio {
			break
		}
		if d := r(i) - ratio; d < 0.1 && d > -0.1 {
			break
		}
	}
	return i
}

// openOverview opens path at overview index level, as gdalwarp does (the
// overview and the ones below it).
func openOverview(path string, level int) (C.GDALDatasetH, error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var cerr [512]C.char
	h := C.tsrOpenOverview(cp, C.int(level), &cerr[0])
	if h == nil {
		return nil, errors.New(cString(&cerr))
	}
	return h, nil
}

func closeDataset(h C.GDALDatasetH) { C.GDALClose(h) }

// handle is one pooled GDAL dataset and the warp machinery built on it:
// overview datasets opened on demand, and warpers by key (the least
// recently used closed beyond maxWarpers). Like the dataset, a handle is
// used by one goroutine at a time.
type handle struct {
	ds      *godal.Dataset
	path    string
	budget  *warpBudget
	ovr     map[int]C.GDALDatasetH
	warpers map[warpKey]*warper
	order   []warpKey // least recently used first
}

const maxWarpers = 8

func newHandle(ds *godal.Dataset, path string, budget *warpBudget) *handle {
	return &handle{ds: ds, path: path, budget: budget, ovr: map[int]C.GDALDatasetH{}, warpers: map[warpKey]*warper{}}
}

func (h *handle) close() {
	for _, wp := range h.warpers {
		h.budget.give(wp.bytes)
		wp.close()
	}
	h.warpers = nil
	for _, o := range h.ovr {
		closeDataset(o)
	}
	h.ovr = nil
	_ = h.ds.Close(godal.SkipWarnings)
}

// warper returns the handle's warper for k, building it (and opening the
// overview k.level) when needed. When keep is false the warper is not kept
// (the memory budget is spent): the caller closes it after use.
func (h *handle) warper(k warpKey, dataBands []int, alpha int) (wp *warper, keep bool, err error) {
	if wp, ok := h.warpers[k]; ok {
		for i, o := range h.order {
			if o == k {
				h.order = append(append(h.order[:i:i], h.order[i+1:]...), k)
				break
			}
		}
		return wp, true, nil
	}
	src := cHandle(h.ds)
	if k.level >= 0 {
		o, ok := h.ovr[k.level]
		if !ok {
			if o, err = openOverview(h.path, k.level); err != nil {
				return nil, false, err
			}
			h.ovr[k.level] = o
		}
		src = o
	}
	if wp, err = newWarper(src, k, k.crs, dataBands, alpha); err != nil {
		return nil, false, err
	}
	if len(h.order) >= maxWarpers {
		h.drop()
	}
	for !h.budget.take(wp.bytes) {
		if len(h.order) == 0 {
			return wp, false, nil
		}
		h.drop()
	}
	h.warpers[k] = wp
	h.order = append(h.order, k)
	return wp, true, nil
}

// drop closes the least recently used warper.
func (h *handle) drop() {
	old := h.order[0]
	h.order = h.order[1:]
	wp := h.warpers[old]
	delete(h.warpers, old)
	h.budget.give(wp.bytes)
	wp.close()
}

// ratioKey identifies a destination grid for the overview choice.
type ratioKey struct {
	crs    string
	rx, ry float64
}
