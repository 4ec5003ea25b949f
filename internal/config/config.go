// Package config turns flags and TESSERA_* environment variables into the
// typed configuration of each command. It is the only package that reads
// the environment: flags win over variables, variables over defaults.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"
)

// LookupEnv is how config reads the environment (os.LookupEnv in main).
type LookupEnv func(string) (string, bool)

// Common holds what every command that touches the catalog needs.
type Common struct {
	DataDir  string
	Store    string // store URL; empty means SQLite in DataDir
	LogLevel string
	// IndexProperties are "name=kind" (kind number or text): properties
	// given their own index for filters and sorts.
	IndexProperties []string
}

// Serve configures `tessera serve`.
type Serve struct {
	Common
	Addr              string
	BaseURL           string
	RootPath          string
	ID                string
	Title             string
	Description       string
	ItemsMaxLimit     int
	ItemsDefaultLimit int
	FilterPermissive  bool
	Transactions      bool
	Ingest            Ingest
	Security

	// Tiles: which raster sources /cog?url= and item assets may read.
	TilesAllowLocal     bool
	TilesLocalRoots     []string
	TilesAllowedHosts   []string
	TilesAllowedBuckets []string
	S3Endpoint          string
	// Tiles: GDAL reader tuning and HTTP caching (0 or "": the tile
	// server's default, which the flags show).
	TilesGDALCacheMB      int
	TilesMaxSources       int
	TilesHandlesPerSource int
	TilesLocalHandles     int
	TilesWarpCacheMB      int
	TilesGDALOptions      []string // KEY=VALUE
	TilesCacheControl     string
}

// Load configures `tessera load`.
type Load struct {
	Common
	BatchSize int
	// Writers is how many batches are written at once.
	Writers int
}

// envName is the variable that backs a flag: --items-max-limit ↔ TESSERA_ITEMS_MAX_LIMIT.
func envName(flag string) string {
	return "TESSERA_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// ApplyEnv sets every flag the command line did not set from its
// environment variable, so that flag parsing validates both the same way.
func ApplyEnv(fs *pflag.FlagSet, env LookupEnv) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			return
		}
		name := envName(f.Name)
		v, ok := env(name)
		if !ok && f.Name == "store" {
			v, ok = env("DATABASE_URL")
			name = "DATABASE_URL"
		}
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %w", name, v, err))
		}
	})
	return errors.Join(errs...)
}

// AddCommon registers the common flags.
func (c *Common) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.DataDir, "data-dir", "./data", "directory for the embedded catalog, queue and objects (env TESSERA_DATA_DIR)")
	fs.StringVar(&c.Store, "store", "", "catalog store URL: a SQLite file path or sqlite:///path (default: catalog.db in the data dir) (env TESSERA_STORE)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error (env TESSERA_LOG_LEVEL)")
	fs.StringSliceVar(&c.IndexProperties, "index-property", []string{"eo:cloud_cover=number"}, "properties indexed for fast filters and sorts, as name=number or name=text (env TESSERA_INDEX_PROPERTY)")
}

// AddFlags registers serve's flags.
func (c *Serve) AddFlags(fs *pflag.FlagSet) {
	c.Common.AddFlags(fs)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on (env TESSERA_ADDR)")
	fs.StringVar(&c.BaseURL, "base-url", "", "public URL of the API, used in links instead of the request's host (env TESSERA_BASE_URL)")
	fs.StringVar(&c.RootPath, "root-path", "", "path prefix the API is served under behind a proxy, e.g. /stac (env TESSERA_ROOT_PATH)")
	fs.StringVar(&c.ID, "id", "tessera", "landing page id (env TESSERA_ID)")
	fs.StringVar(&c.Title, "title", "tessera STAC API", "landing page title (env TESSERA_TITLE)")
	fs.StringVar(&c.Description, "description", "A STAC catalog with an ingest pipeline and a dynamic tile server.", "landing page description (env TESSERA_DESCRIPTION)")
	fs.IntVar(&c.ItemsMaxLimit, "items-max-limit", 10000, "largest page size; larger limits are lowered to it (env TESSERA_ITEMS_MAX_LIMIT)")
	fs.IntVar(&c.ItemsDefaultLimit, "items-default-limit", 10, "page size when a request gives none (env TESSERA_ITEMS_DEFAULT_LIMIT)")
	c.Ingest.AddFlags(fs)
	c.Security.AddFlags(fs)
	fs.BoolVar(&c.TilesAllowLocal, "tiles-allow-local", true, "let the tiler read local files (env TESSERA_TILES_ALLOW_LOCAL)")
	fs.StringSliceVar(&c.TilesLocalRoots, "tiles-local-roots", nil, "directories local rasters must lie under (default: anywhere) (env TESSERA_TILES_LOCAL_ROOTS)")
	fs.StringSliceVar(&c.TilesAllowedHosts, "tiles-allowed-hosts", nil, "http(s) hosts the tiler may read (host, host:port, .suffix or *) (env TESSERA_TILES_ALLOWED_HOSTS)")
	fs.StringSliceVar(&c.TilesAllowedBuckets, "tiles-allowed-buckets", nil, "S3 buckets the tiler may read (* for any) (env TESSERA_TILES_ALLOWED_BUCKETS)")
	fs.IntVar(&c.TilesGDALCacheMB, "tiles-gdal-cache-mb", 256, "GDAL's block cache of decoded raster blocks, in MB (GDAL_CACHEMAX) (env TESSERA_TILES_GDAL_CACHE_MB)")
	fs.IntVar(&c.TilesMaxSources, "tiles-max-sources", 256, "rasters kept open, least recently used closed first (env TESSERA_TILES_MAX_SOURCES)")
	fs.IntVar(&c.TilesHandlesPerSource, "tiles-handles-per-source", 8, "concurrent GDAL handles per remote raster (http, s3) (env TESSERA_TILES_HANDLES_PER_SOURCE)")
	fs.IntVar(&c.TilesLocalHandles, "tiles-local-handles", 0, "concurrent GDAL handles per local raster; each holds its own decoded blocks (0: one per CPU) (env TESSERA_TILES_LOCAL_HANDLES)")
	fs.IntVar(&c.TilesWarpCacheMB, "tiles-warp-cache-mb", 128, "memory for the warp set-ups kept for reuse, in MB (env TESSERA_TILES_WARP_CACHE_MB)")
	fs.StringSliceVar(&c.TilesGDALOptions, "tiles-gdal-option", nil, "GDAL configuration option KEY=VALUE, applied over tessera's (repeatable) (env TESSERA_TILES_GDAL_OPTION)")
	fs.StringVar(&c.TilesCacheControl, "tiles-cache-control", "public, max-age=3600", "Cache-Control of tiles and images (env TESSERA_TILES_CACHE_CONTROL)")
	fs.StringVar(&c.S3Endpoint, "s3-endpoint", "", "S3-compatible endpoint for s3:// sources, a URL (http://127.0.0.1:7070) or a host reached over https (default AWS) (env TESSERA_S3_ENDPOINT)")
	fs.BoolVar(&c.Transactions, "transactions", false, "enable the Transaction extensions: POST/PUT/PATCH/DELETE of items and collections (env TESSERA_TRANSACTIONS)")
	fs.BoolVar(&c.FilterPermissive, "filter-permissive", false, "accept CQL2 filters on properties that are not queryables instead of answering 400 (env TESSERA_FILTER_PERMISSIVE)")
}

// AddFlags registers load's flags.
func (c *Load) AddFlags(fs *pflag.FlagSet) {
	c.Common.AddFlags(fs)
	fs.IntVar(&c.BatchSize, "batch-size", 5000, "items per transaction (env TESSERA_BATCH_SIZE)")
	fs.IntVar(&c.Writers, "writers", 2, "batches written at once; PostgreSQL writes them in parallel, SQLite one after the other (env TESSERA_WRITERS)")
}

// Validate checks the common settings.
func (c Common) Validate() error {
	if c.DataDir == "" && c.Store == "" {
		return errors.New("--data-dir or --store is required")
	}
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		return err
	}
	return nil
}

// Validate checks serve's settings.
func (c Serve) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if c.ItemsDefaultLimit < 1 || c.ItemsMaxLimit < c.ItemsDefaultLimit {
		return fmt.Errorf("--items-default-limit (%d) must be ≥ 1 and ≤ --items-max-limit (%d)", c.ItemsDefaultLimit, c.ItemsMaxLimit)
	}
	if c.Addr == "" {
		return errors.New("--addr is required")
	}
	if _, err := c.S3(); err != nil {
		return err
	}
	if _, err := c.GDALOptions(); err != nil {
		return err
	}
	for _, v := range []struct {
		flag string
		n    int
	}{{"--tiles-gdal-cache-mb", c.TilesGDALCacheMB}, {"--tiles-max-sources", c.TilesMaxSources},
		{"--tiles-handles-per-source", c.TilesHandlesPerSource}, {"--tiles-local-handles", c.TilesLocalHandles},
		{"--tiles-warp-cache-mb", c.TilesWarpCacheMB}} {
		if v.n < 0 {
			return fmt.Errorf("%s must not be negative, got %d", v.flag, v.n)
		}
	}
	return c.Security.Validate()
}

// GDALOptions parses --tiles-gdal-option KEY=VALUE pairs.
func (c Serve) GDALOptions() (map[string]string, error) {
	if len(c.TilesGDALOptions) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(c.TilesGDALOptions))
	for _, kv := range c.TilesGDALOptions {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("--tiles-gdal-option %q: want KEY=VALUE", kv)
		}
		m[k] = v
	}
	return m, nil
}

// S3Endpoint is where s3:// sources are read from: a host (and port) and
// whether to use https.
type S3Endpoint struct {
	Host  string // "" = AWS
	HTTPS bool
}

// URL is the endpoint as a URL ("" for AWS).
func (e S3Endpoint) URL() string {
	if e.Host == "" {
		return ""
	}
	if e.HTTPS {
		return "https://" + e.Host
	}
	return "http://" + e.Host
}

// S3 parses --s3-endpoint: an http(s) URL, or a bare host, which means
// https.
func (c Serve) S3() (S3Endpoint, error) {
	s := c.S3Endpoint
	if s == "" {
		return S3Endpoint{HTTPS: true}, nil
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return S3Endpoint{}, fmt.Errorf("--s3-endpoint %q: want http(s)://host[:port] or host[:port]", c.S3Endpoint)
	}
	return S3Endpoint{Host: u.Host, HTTPS: u.Scheme == "https"}, nil
}

// Validate checks load's settings.
func (c Load) Validate() error {
	if err := c.Common.Validate(); err != nil {
		return err
	}
	if c.BatchSize < 1 {
		return fmt.Errorf("--batch-size must be ≥ 1, got %d", c.BatchSize)
	}
	if c.Writers < 1 || c.Writers > 64 {
		return fmt.Errorf("--writers must be between 1 and 64, got %d", c.Writers)
	}
	return nil
}

// ParseLogLevel maps a level name to slog.
func ParseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("--log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// StoreKind says which backend a store URL names.
type StoreKind int

const (
	StoreSQLite StoreKind = iota
	StorePostgres
)

// ParseStore resolves the store URL to a backend and its location.
func (c Common) ParseStore() (StoreKind, string, error) {
	s := c.Store
	switch {
	case s == "":
		return StoreSQLite, filepath.Join(c.DataDir, "catalog.db"), nil
	case strings.HasPrefix(s, "postgres://"), strings.HasPrefix(s, "postgresql://"):
		return StorePostgres, s, nil
	case strings.HasPrefix(s, "sqlite://"):
		p := strings.TrimPrefix(s, "sqlite://")
		if p == "" {
			return 0, "", fmt.Errorf("--store %q: missing the database path (sqlite:///path/to/catalog.db)", s)
		}
		return StoreSQLite, p, nil
	case strings.Contains(s, "://"):
		return 0, "", fmt.Errorf("--store %q: unknown scheme (want a path, sqlite:///path or postgres://...)", s)
	default:
		return StoreSQLite, s, nil
	}
}
