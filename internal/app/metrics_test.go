package app_test

import (
	"strings"
	"testing"
)

func TestMetricsEndpoint(t *testing.T) {
	srv := newServer(t, 0, nil)
	r := do(t, nil, "GET", srv.URL+"/metrics", "")
	if r.status != 200 || !strings.Contains(string(r.body), "go_goroutines") || !strings.Contains(string(r.body), "process_resident_memory_bytes") {
		t.Fatalf("/metrics: %d %.300s", r.status, r.body)
	}
}
