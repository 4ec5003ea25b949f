package config_test

import (
	"strings"
	"testing"

	"github.com/tessera-geo/tessera/internal/config"
)

func TestS3Endpoint(t *testing.T) {
	cases := []struct {
		in      string
		want    config.S3Endpoint
		wantURL string
		err     bool
	}{
		{"", config.S3Endpoint{HTTPS: true}, "", false},
		{"http://127.0.0.1:7070", config.S3Endpoint{Host: "127.0.0.1:7070"}, "http://127.0.0.1:7070", false},
		{"https://minio.example.com/", config.S3Endpoint{Host: "minio.example.com", HTTPS: true}, "https://minio.example.com", false},
		{"minio.example.com:9000", config.S3Endpoint{Host: "minio.example.com:9000", HTTPS: true}, "https://minio.example.com:9000", false},
		{"ftp://h", config.S3Endpoint{}, "", true},
		{"http://h/bucket", config.S3Endpoint{}, "", true},
		{"http://", config.S3Endpoint{}, "", true},
		{"http://u:p@h", config.S3Endpoint{}, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			c := config.Serve{S3Endpoint: tc.in}
			got, err := c.S3()
			if tc.err {
				if err == nil || !strings.Contains(err.Error(), "--s3-endpoint") {
					t.Fatalf("got %v, %v; want an error naming --s3-endpoint", got, err)
				}
				return
			}
			if err != nil || got != tc.want || got.URL() != tc.wantURL {
				t.Fatalf("got %+v (%q), %v; want %+v (%q)", got, got.URL(), err, tc.want, tc.wantURL)
			}
		})
	}
}
