//go:build gdal

package gdal

/*
#cgo pkg-config: gdal
#include <stdlib.h>
#include <cpl_conv.h>
static void tesseraSetConfig(const char *k, const char *v) { CPLSetConfigOption(k, v); }
*/
import "C"

import (
	"fmt"
	"runtime"
	"sort"
	"unsafe"

	"github.com/airbusgeo/godal"
)

// Config tunes the GDAL reader.
type Config struct {
	MaxSources       int // sources kept open (LRU); default 256
	HandlesPerSource int // concurrent GDAL handles per remote source (http, s3); default 8
	// LocalHandlesPerSource caps the handles of a local file; default
	// GOMAXPROCS. Reading a local file is CPU-bound (decoding, warping), so
	// more handles than cores add no throughput, and every handle holds its
	// own copy of the decoded blocks in GDAL's block cache (GDAL 3.6 caches
	// per dataset handle): 8 handles on 2 cores kept the cache thrashing.
	LocalHandlesPerSource int
	CacheMaxMB            int // GDAL_CACHEMAX (block cache) in MB; default 256
	// WarpCacheMB bounds the memory of the warp set-ups handles keep for
	// reuse (their destination buffers), over all sources; default 128.
	WarpCacheMB   int
	VSICacheBytes int64 // VSI_CACHE_SIZE per file handle; default 8 MiB
	// S3: /vsis3 endpoint for s3:// hrefs ("" = AWS). Credentials come from
	// GDAL's usual sources (AWS_* variables, ~/.aws).
	S3Endpoint       string
	S3Region         string
	S3UseHTTPS       bool
	S3VirtualHosting bool
	S3NoSign         bool
	// Extra CPL options applied verbatim (KEY -> VALUE).
	Options map[string]string
}

// Defaults fills zero fields.
func (c *Config) Defaults() {
	if c.MaxSources == 0 {
		c.MaxSources = 256
	}
	if c.HandlesPerSource == 0 {
		c.HandlesPerSource = 8
	}
	if c.LocalHandlesPerSource == 0 {
		c.LocalHandlesPerSource = min(runtime.GOMAXPROCS(0), c.HandlesPerSource)
	}
	if c.WarpCacheMB == 0 {
		c.WarpCacheMB = 128
	}
	if c.CacheMaxMB == 0 {
		c.CacheMaxMB = 256
	}
	if c.VSICacheBytes == 0 {
		c.VSICacheBytes = 8 << 20
	}
}

// cplOptions returns the process-wide GDAL configuration for COG serving.
func (c Config) cplOptions() map[string]string {
	o := map[string]string{
		// Never list the directory of a remote file to look for sidecars.
		"GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
		// Merge neighbouring range requests into one.
		"GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
		"GDAL_INGESTED_BYTES_AT_OPEN":        "32768",
		"CPL_VSIL_CURL_CACHE_SIZE":           "200000000",
		"VSI_CACHE":                          "TRUE",
		"VSI_CACHE_SIZE":                     fmt.Sprint(c.VSICacheBytes),
		"GDAL_CACHEMAX":                      fmt.Sprint(c.CacheMaxMB),
		"GDAL_BAND_BLOCK_CACHE":              "HASHSET",
		"GDAL_HTTP_MAX_RETRY":                "2",
		"GDAL_HTTP_RETRY_DELAY":              "0.5",
		"GDAL_PAM_ENABLED":                   "NO",
		"CPL_DEBUG":                          "OFF",
	}
	if c.S3Endpoint != "" {
		o["AWS_S3_ENDPOINT"] = c.S3Endpoint
	}
	if c.S3Region != "" {
		o["AWS_REGION"] = c.S3Region
	}
	if !c.S3UseHTTPS && c.S3Endpoint != "" {
		o["AWS_HTTPS"] = "NO"
	}
	if !c.S3VirtualHosting && c.S3Endpoint != "" {
		o["AWS_VIRTUAL_HOSTING"] = "FALSE"
	}
	if c.S3NoSign {
		o["AWS_NO_SIGN_REQUEST"] = "YES"
	}
	for k, v := range c.Options {
		o[k] = v
	}
	return o
}

// Configure registers GDAL's drivers and sets the process-global CPL
// configuration. Call it once at start-up (New does).
func Configure(c Config) {
	godal.RegisterAll()
	opts := c.cplOptions()
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		setConfig(k, opts[k])
	}
}

func setConfig(k, v string) {
	ck := C.CString(k)
	defer C.free(unsafe.Pointer(ck))
	if v == "" {
		C.tesseraSetConfig(ck, nil)
		return
	}
	cv := C.CString(v)
	defer C.free(unsafe.Pointer(cv))
	C.tesseraSetConfig(ck, cv)
}

// Version returns GDAL's version string.
func Version() string {
	v := godal.Version()
	return fmt.Sprintf("%d.%d.%d", v.Major(), v.Minor(), v.Revision())
}
