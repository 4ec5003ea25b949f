package config_test

import (
	"maps"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tessera-geo/tessera/internal/config"
)

func TestTilesFlagsAndEnv(t *testing.T) {
	env := map[string]string{
		"TESSERA_TILES_GDAL_OPTION":   "GDAL_HTTP_TIMEOUT=20,CPL_DEBUG=ON",
		"TESSERA_TILES_GDAL_CACHE_MB": "512",
	}
	var c config.Serve
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	c.AddFlags(fs)
	if err := fs.Parse([]string{"--tiles-local-handles=3", "--tiles-cache-control=no-cache"}); err != nil {
		t.Fatal(err)
	}
	if err := config.ApplyEnv(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok }); err != nil {
		t.Fatal(err)
	}
	opts, err := c.GDALOptions()
	if err != nil || !maps.Equal(opts, map[string]string{"GDAL_HTTP_TIMEOUT": "20", "CPL_DEBUG": "ON"}) {
		t.Fatalf("GDAL options %v, %v", opts, err)
	}
	if c.TilesGDALCacheMB != 512 || c.TilesLocalHandles != 3 || c.TilesCacheControl != "no-cache" || c.TilesMaxSources != 256 {
		t.Fatalf("%+v", c)
	}
}

func TestTilesValidate(t *testing.T) {
	base := config.Serve{Common: config.Common{DataDir: "d", LogLevel: "info"}, Addr: ":0", ItemsDefaultLimit: 10, ItemsMaxLimit: 100}
	cases := []struct {
		name string
		mod  func(*config.Serve)
		want string
	}{
		{"defaults", func(*config.Serve) {}, ""},
		{"option without =", func(c *config.Serve) { c.TilesGDALOptions = []string{"GDAL_CACHEMAX"} }, "--tiles-gdal-option"},
		{"option without key", func(c *config.Serve) { c.TilesGDALOptions = []string{"=1"} }, "--tiles-gdal-option"},
		{"empty value", func(c *config.Serve) { c.TilesGDALOptions = []string{"CPL_DEBUG="} }, ""},
		{"negative cache", func(c *config.Serve) { c.TilesGDALCacheMB = -1 }, "--tiles-gdal-cache-mb"},
		{"negative handles", func(c *config.Serve) { c.TilesLocalHandles = -2 }, "--tiles-local-handles"},
		{"bad s3 endpoint", func(c *config.Serve) { c.S3Endpoint = "ftp://h" }, "--s3-endpoint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.mod(&c)
			err := c.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
		})
	}
}
