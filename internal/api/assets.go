package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tessera-geo/tessera/internal/httpx"
)

// Asset proxy modes (stac-server's ASSET_PROXY_BUCKET_OPTION).
const (
	AssetProxyNone = "NONE" // hrefs are served as stored
	AssetProxyAll  = "ALL"  // every s3:// href is proxied
	AssetProxyList = "LIST" // s3:// hrefs of the listed buckets are proxied
)

// AssetSigner presigns a GET of an object (the app's S3 driver).
type AssetSigner interface {
	SignedURL(ctx context.Context, bucket, key string) (string, error)
}

// AssetProxy configures the asset proxy: s3:// asset hrefs of items are
// served as /collections/{cid}/items/{iid}/assets/{key} (the original
// under alternate.s3), which answers 302 to a presigned URL, so that only
// principals who may see the item can fetch its private assets.
type AssetProxy struct {
	Mode    string
	Buckets []string
	Signer  AssetSigner
}

func (p AssetProxy) validate() error {
	switch p.Mode {
	case "", AssetProxyNone:
		return nil
	case AssetProxyAll:
	case AssetProxyList:
		if len(p.Buckets) == 0 {
			return fmt.Errorf("asset proxy LIST needs buckets")
		}
	default:
		return fmt.Errorf("asset proxy mode %q: want NONE, ALL or LIST", p.Mode)
	}
	if p.Signer == nil {
		return fmt.Errorf("asset proxy %s needs a signer", p.Mode)
	}
	return nil
}

func (p AssetProxy) enabled() bool { return p.Mode == AssetProxyAll || p.Mode == AssetProxyList }

// proxied splits an s3:// href the proxy serves into bucket and key.
func (p AssetProxy) proxied(href string) (bucket, key string, ok bool) {
	if !p.enabled() {
		return "", "", false
	}
	rest, ok := strings.CutPrefix(href, "s3://")
	if !ok {
		return "", "", false
	}
	bucket, key, ok = strings.Cut(rest, "/")
	if !ok || bucket == "" || key == "" {
		return "", "", false
	}
	if p.Mode == AssetProxyList && !slices.Contains(p.Buckets, bucket) {
		return "", "", false
	}
	return bucket, key, true
}

const alternateAssetsExt = "https://stac-extensions.github.io/alternate-assets/v1.1.0/schema.json"

// proxyAssets rewrites the proxied asset hrefs of an item document.
func (s *Server) proxyAssets(doc []byte, base, cid, iid string) []byte {
	p := s.cfg.AssetProxy
	if !p.enabled() || !strings.Contains(string(doc), `"s3://`) {
		return doc
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(doc, &m) != nil {
		return doc
	}
	var assets map[string]map[string]any
	if json.Unmarshal(m["assets"], &assets) != nil {
		return doc
	}
	changed := false
	for key, a := range assets {
		href, _ := a["href"].(string)
		if _, _, ok := p.proxied(href); !ok {
			continue
		}
		alt, _ := a["alternate"].(map[string]any)
		if alt == nil {
			alt = map[string]any{}
		}
		alt["s3"] = map[string]any{"href": href}
		a["alternate"] = alt
		a["href"] = base + "/collections/" + pathEscape(cid) + "/items/" + pathEscape(iid) + "/assets/" + pathEscape(key)
		changed = true
	}
	if !changed {
		return doc
	}
	m["assets"], _ = json.Marshal(assets)
	var exts []string
	_ = json.Unmarshal(m["stac_extensions"], &exts)
	if !slices.Contains(exts, alternateAssetsExt) {
		m["stac_extensions"], _ = json.Marshal(append(exts, alternateAssetsExt))
	}
	out, err := json.Marshal(m)
	if err != nil {
		return doc
	}
	return out
}

// asset answers GET /collections/{cid}/items/{iid}/assets/{key}: 302 to a
// presigned URL of a proxied asset the principal may see.
func (s *Server) asset(w http.ResponseWriter, r *http.Request) error {
	cid, iid, key := r.PathValue("collectionId"), r.PathValue("itemId"), r.PathValue("assetKey")
	it, err := s.store.Item(r.Context(), cid, iid)
	if err != nil {
		return err
	}
	var doc struct {
		Assets map[string]struct {
			Href string `json:"href"`
		} `json:"assets"`
	}
	_ = json.Unmarshal(it.Doc, &doc)
	a, ok := doc.Assets[key]
	if !ok {
		return httpx.NotFound("item %q in collection %q has no asset %q", iid, cid, key)
	}
	bucket, obj, ok := s.cfg.AssetProxy.proxied(a.Href)
	if !ok {
		return httpx.NotFound("asset %q of item %q is not served by the asset proxy", key, iid)
	}
	u, err := s.cfg.AssetProxy.Signer.SignedURL(r.Context(), bucket, obj)
	if err != nil {
		return fmt.Errorf("presign s3://%s/%s: %w", bucket, obj, err)
	}
	if _, err := url.Parse(u); err != nil {
		return fmt.Errorf("presigned URL: %w", err)
	}
	w.Header().Set("Cache-Control", "private, no-store")
	http.Redirect(w, r, u, http.StatusFound)
	return nil
}
