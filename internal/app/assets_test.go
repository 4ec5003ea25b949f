package app_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tessera-geo/tessera/internal/auth"
	"github.com/tessera-geo/tessera/internal/config"
)

// versitygw finds the S3 test server (go install
// github.com/versity/versitygw/cmd/versitygw@v1.8.0), or "".
func versitygw() string {
	if p := os.Getenv("TESSERA_VERSITYGW"); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(out)), "bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// startS3 runs versitygw (access key tessera-ak, secret tessera-sk) on
// loopback over a directory holding objects ("bucket/key" → bytes); it
// returns the endpoint URL.
func startS3(t *testing.T, bin string, objects map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range objects {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "--access", "tessera-ak", "--secret", "tessera-sk", "--port", addr, "posix", dir)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 100 {
			t.Fatalf("versitygw did not start on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + addr
}

func TestAssetProxy(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "tessera-ak")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "tessera-sk")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	endpoint := "http://127.0.0.1:9" // presigning needs no server
	bin := versitygw()
	if bin == "" && os.Getenv("CI") == "true" {
		t.Fatal("versitygw is required in CI (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
	}
	if bin != "" {
		endpoint = startS3(t, bin, map[string][]byte{"bucket-a/path/x.tif": []byte("private raster bytes")})
	}
	srv := newServer(t, 0, func(c *config.Serve) {
		c.Transactions = true
		c.AssetProxy, c.AssetProxyBuckets, c.AssetProxyRegion = "LIST", []string{"bucket-a"}, "us-east-1"
		c.AssetProxyEndpoint = endpoint
		c.AuthAPIKeys = fmt.Sprintf(`[{"name":"other","sha256":%q,"scopes":["read"],"collections":[%q]}]`, auth.HashAPIKey("other"), colL8)
	})
	item := `{"type":"Feature","stac_version":"1.0.0","id":"p1","geometry":{"type":"Point","coordinates":[1,2]},
		"properties":{"datetime":"2021-01-01T00:00:00Z"},"links":[],
		"assets":{"data":{"href":"s3://bucket-a/path/x.tif","type":"image/tiff"},
		          "other":{"href":"s3://bucket-b/y.tif"},"thumb":{"href":"https://example.com/t.png"}}}`
	if r := do(t, nil, "POST", srv.URL+"/collections/"+colS1+"/items", item); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	itemURL := srv.URL + "/collections/" + colS1 + "/items/p1"
	check := func(r result) {
		t.Helper()
		assets := r.json["assets"].(map[string]any)
		data := assets["data"].(map[string]any)
		if data["href"] != itemURL+"/assets/data" || data["alternate"].(map[string]any)["s3"].(map[string]any)["href"] != "s3://bucket-a/path/x.tif" {
			t.Errorf("data asset %v", data)
		}
		if assets["other"].(map[string]any)["href"] != "s3://bucket-b/y.tif" || assets["thumb"].(map[string]any)["href"] != "https://example.com/t.png" {
			t.Errorf("unlisted assets rewritten: %v", assets)
		}
	}
	check(do(t, nil, "GET", itemURL, ""))
	s := do(t, nil, "GET", srv.URL+"/search?ids=p1", "")
	check(result{json: s.json["features"].([]any)[0].(map[string]any)})

	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(itemURL + "/assets/data")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 302 || !strings.HasPrefix(loc, endpoint+"/bucket-a/path/x.tif?") || !strings.Contains(loc, "X-Amz-Signature=") {
		t.Fatalf("redirect: %d %q", resp.StatusCode, loc)
	}
	for _, p := range []string{"/assets/other", "/assets/thumb", "/assets/nope"} {
		if r := do(t, nil, "GET", itemURL+p, ""); r.status != 404 {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	// A principal that cannot see the item cannot fetch its assets.
	if r := do(t, nil, "GET", itemURL+"/assets/data", "", "X-API-Key", "other"); r.status != 404 {
		t.Errorf("invisible item's asset: %d", r.status)
	}

	if bin == "" {
		t.Log("versitygw not installed: presigned URL checked, not fetched")
		return
	}
	get := func(u string) (int, string) {
		r, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(b)
	}
	if code, body := get(itemURL + "/assets/data"); code != 200 || body != "private raster bytes" {
		t.Fatalf("following the redirect: %d %q", code, body)
	}
	if code, _ := get(strings.Replace(loc, "x.tif", "y.tif", 1)); code != 403 {
		t.Errorf("tampered presigned URL: %d", code)
	}
	if code, _ := get(endpoint + "/bucket-a/path/x.tif"); code == 200 {
		t.Error("the bucket is readable without a signature")
	}
}
