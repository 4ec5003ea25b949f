package app

import (
	"context"
	"fmt"
	"net/url"
	"sync"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/s3blob"

	"github.com/tessera-geo/tessera/internal/api"
)

// s3Signer presigns GETs of S3 objects with gocloud's s3blob; buckets are
// opened on first use and kept.
type s3Signer struct {
	endpoint, region string
	expiry           time.Duration

	mu      sync.Mutex
	buckets map[string]*blob.Bucket
}

func (s *s3Signer) bucket(ctx context.Context, name string) (*blob.Bucket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.buckets[name]; ok {
		return b, nil
	}
	q := url.Values{}
	if s.endpoint != "" {
		q.Set("endpoint", s.endpoint)
		q.Set("use_path_style", "true")
	}
	if s.region != "" {
		q.Set("region", s.region)
	}
	u := (&url.URL{Scheme: s3blob.Scheme, Host: name, RawQuery: q.Encode()}).String()
	b, err := blob.OpenBucket(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(s.buckets) >= 1000 { // bounded: ALL mode may meet many buckets
		for k, old := range s.buckets {
			_ = old.Close()
			delete(s.buckets, k)
		}
	}
	s.buckets[name] = b
	return b, nil
}

// SignedURL implements api.AssetSigner.
func (s *s3Signer) SignedURL(ctx context.Context, bucket, key string) (string, error) {
	b, err := s.bucket(ctx, bucket)
	if err != nil {
		return "", fmt.Errorf("open bucket %s: %w", bucket, err)
	}
	return b.SignedURL(ctx, key, &blob.SignedURLOptions{Expiry: s.expiry, Method: "GET"})
}

func (s *s3Signer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, b := range s.buckets {
		_ = b.Close()
		delete(s.buckets, k)
	}
	return nil
}

// assetProxy builds the API's asset proxy from serve's settings.
func (a *App) assetProxy() api.AssetProxy {
	s := a.cfg.Security
	if s.AssetProxy == "" || s.AssetProxy == api.AssetProxyNone {
		return api.AssetProxy{}
	}
	expiry := s.AssetProxyExpiry
	if expiry <= 0 {
		expiry = 5 * time.Minute
	}
	endpoint := s.AssetProxyEndpoint
	if endpoint == "" {
		s3, _ := a.cfg.S3() // checked by config.Serve.Validate
		endpoint = s3.URL()
	}
	signer := &s3Signer{endpoint: endpoint, region: s.AssetProxyRegion, expiry: expiry, buckets: map[string]*blob.Bucket{}}
	a.closers = append(a.closers, signer.Close)
	return api.AssetProxy{Mode: s.AssetProxy, Buckets: s.AssetProxyBuckets, Signer: signer}
}
