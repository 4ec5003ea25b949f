package config_test

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tessera-geo/tessera/internal/config"
)

func TestIngestFlagsAndEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c config.Serve)
	}{
		{name: "defaults", check: func(t *testing.T, c config.Serve) {
			in := c.Ingest
			if !in.Enabled || in.URL != "" || in.Workers != 2 || in.BatchSize != 1000 || !in.Notify || in.AllowTruncate || in.MaxAttempts != 10 {
				t.Errorf("defaults: %+v", in)
			}
		}},
		{name: "env", env: map[string]string{"TESSERA_QUEUE": "nats://q:4222", "TESSERA_INGEST_BATCH_SIZE": "50",
			"TESSERA_INGEST_FILE_ROOT": "/a,/b", "TESSERA_INGEST_ALLOW_TRUNCATE": "true"},
			check: func(t *testing.T, c config.Serve) {
				in := c.Ingest
				if in.URL != "nats://q:4222" || in.BatchSize != 50 || len(in.FileRoots) != 2 || !in.AllowTruncate {
					t.Errorf("from env: %+v", in)
				}
			}},
		{name: "flag beats env", args: []string{"--ingest-batch-size", "7"}, env: map[string]string{"TESSERA_INGEST_BATCH_SIZE": "50"},
			check: func(t *testing.T, c config.Serve) {
				if c.Ingest.BatchSize != 7 {
					t.Errorf("batch size %d", c.Ingest.BatchSize)
				}
			}},
		{name: "sqs not yet", args: []string{"--queue", "sqs://queue"}, wantErr: "want nats://"},
		{name: "bad batch", args: []string{"--ingest-batch-size", "0"}, wantErr: "--ingest-batch-size"},
		{name: "bad attempts", args: []string{"--ingest-max-attempts", "0"}, wantErr: "--ingest-max-attempts"},
		{name: "bad retry", args: []string{"--ingest-retry-base", "1m", "--ingest-retry-max", "1s"}, wantErr: "--ingest-retry-base"},
		{name: "bad ack wait", args: []string{"--queue-ack-wait", "10ms"}, wantErr: "--queue-ack-wait"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c config.Serve
			fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
			c.AddFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			env := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			if err := config.ApplyEnv(fs, env); err != nil {
				t.Fatal(err)
			}
			err := c.Ingest.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Validate: %v, want an error naming %s", err, tc.wantErr)
			}
			if tc.check != nil {
				tc.check(t, c)
			}
		})
	}
}

func TestWorkerNeedsExternalQueue(t *testing.T) {
	var c config.Worker
	fs := pflag.NewFlagSet("worker", pflag.ContinueOnError)
	c.AddFlags(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "--queue") {
		t.Errorf("worker without --queue: %v", err)
	}
	if err := fs.Parse([]string{"--queue", "nats://h:4222"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("worker with --queue: %v", err)
	}
}
