package tiles

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/tessera-geo/tessera/internal/httpx"
)

// Config configures the tile server and, through internal/app, the GDAL
// reader behind it.
type Config struct {
	// Sources allowed in ?url= and in STAC asset hrefs.
	AllowLocal     bool     // local paths and file:// URLs (default true)
	LocalRoots     []string // when set, local paths must lie under one of these directories
	AllowedHosts   []string // http(s) hosts ("host" or "host:port"; "*" any; ".example.com" suffix); empty: none
	AllowedBuckets []string // s3 buckets ("*" any); empty: none

	// S3 endpoint for s3:// sources ("" = AWS); see raster/gdal.Config.
	S3Endpoint       string
	S3Region         string
	S3UseHTTPS       bool
	S3VirtualHosting bool
	S3NoSign         bool

	// GDAL reader tuning (see raster/gdal.Config).
	MaxSources            int // sources kept open (LRU)
	HandlesPerSource      int // concurrent GDAL handles per remote source
	LocalHandlesPerSource int // concurrent GDAL handles per local file (0: GOMAXPROCS)
	CacheMaxMB            int // GDAL block cache
	WarpCacheMB           int // warp set-ups kept for reuse
	GDALOptions           map[string]string

	// HTTP behaviour.
	BaseURL        string        // public base URL for links ("" = from the request)
	CacheControl   string        // Cache-Control of tiles and images
	DefaultTMS     string        // for /map.html links and TileJSON defaults
	MaxSize        int           // default and maximum max_size for previews/statistics
	MaxImagePixels int           // largest width*height for preview/bbox/feature
	ReadTimeout    time.Duration // per request read deadline (0: none)
	MaxAssets      int           // assets per item request
	JPEGQuality    int

	// Mosaics of searches and collections.
	Mosaic MosaicConfig
}

// Defaults returns the default configuration.
func Defaults() Config {
	return Config{
		AllowLocal:       true,
		MaxSources:       256,
		HandlesPerSource: 8,
		CacheMaxMB:       256,
		WarpCacheMB:      128,
		CacheControl:     "public, max-age=3600",
		DefaultTMS:       "WebMercatorQuad",
		MaxSize:          1024,
		MaxImagePixels:   4096 * 4096,
		ReadTimeout:      30 * time.Second,
		MaxAssets:        16,
		JPEGQuality:      85,
		Mosaic:           MosaicDefaults(),
	}
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.MaxSources < 1 {
		errs = append(errs, errors.New("tiles: MaxSources must be at least 1"))
	}
	if c.HandlesPerSource < 1 {
		errs = append(errs, errors.New("tiles: HandlesPerSource must be at least 1"))
	}
	if c.LocalHandlesPerSource < 0 || c.CacheMaxMB < 1 || c.WarpCacheMB < 1 {
		errs = append(errs, errors.New("tiles: LocalHandlesPerSource must be at least 0, CacheMaxMB and WarpCacheMB at least 1"))
	}
	if c.MaxSize < 16 {
		errs = append(errs, errors.New("tiles: MaxSize must be at least 16"))
	}
	if c.MaxImagePixels < c.MaxSize*c.MaxSize {
		errs = append(errs, errors.New("tiles: MaxImagePixels must be at least MaxSize²"))
	}
	if c.MaxAssets < 1 {
		errs = append(errs, errors.New("tiles: MaxAssets must be at least 1"))
	}
	if c.JPEGQuality < 1 || c.JPEGQuality > 100 {
		errs = append(errs, errors.New("tiles: JPEGQuality must be in 1..100"))
	}
	for _, r := range c.LocalRoots {
		if !filepath.IsAbs(r) {
			errs = append(errs, fmt.Errorf("tiles: LocalRoots entry %q is not absolute", r))
		}
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fmt.Errorf("tiles: BaseURL %q is not an absolute URL", c.BaseURL))
		}
	}
	if c.S3Endpoint != "" && strings.Contains(c.S3Endpoint, "://") {
		errs = append(errs, fmt.Errorf("tiles: S3Endpoint %q must be host[:port] without a scheme", c.S3Endpoint))
	}
	if err := c.Mosaic.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func forbidden(format string, args ...any) error {
	return &httpx.Error{Status: 403, Code: httpx.CodeForbidden, Description: fmt.Sprintf(format, args...)}
}

// checkHref applies the allow-lists to a source href; param names the
// request parameter for the error.
func (c Config) checkHref(param, href string) error {
	if href == "" {
		return httpx.BadRequest(param, "empty source")
	}
	if strings.HasPrefix(href, "/vsi") {
		return httpx.BadRequest(param, "GDAL virtual paths are not accepted; use http(s)://, s3:// or a local path")
	}
	u, err := url.Parse(href)
	if err != nil {
		return httpx.BadRequest(param, "not a URL or path: %v", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "", "file":
		if !c.AllowLocal {
			return forbidden("%s: local paths are not allowed", param)
		}
		p := href
		if u.Scheme != "" {
			p = u.Path
		}
		if len(c.LocalRoots) == 0 {
			return nil
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return httpx.BadRequest(param, "bad path: %v", err)
		}
		for _, r := range c.LocalRoots {
			if rel, err := filepath.Rel(filepath.Clean(r), abs); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
				return nil
			}
		}
		return forbidden("%s: path outside the allowed directories", param)
	case "http", "https":
		if hostAllowed(c.AllowedHosts, u.Host) {
			return nil
		}
		return forbidden("%s: host %q is not allowed", param, u.Host)
	case "s3":
		for _, b := range c.AllowedBuckets {
			if b == "*" || b == u.Host {
				return nil
			}
		}
		return forbidden("%s: bucket %q is not allowed", param, u.Host)
	default:
		return httpx.BadRequest(param, "unsupported scheme %q (http, https, s3, file or a local path)", u.Scheme)
	}
}

func hostAllowed(list []string, host string) bool {
	h := strings.ToLower(host)
	hn := h
	if i := strings.LastIndex(h, ":"); i >= 0 && !strings.HasSuffix(h, "]") {
		hn = h[:i]
	}
	for _, a := range list {
		a = strings.ToLower(a)
		switch {
		case a == "*", a == h, a == hn:
			return true
		case strings.HasPrefix(a, ".") && (strings.HasSuffix(hn, a) || hn == a[1:]):
			return true
		}
	}
	return false
}
