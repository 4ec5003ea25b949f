package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/tessera-geo/tessera/internal/queue"
)

// PublishSummary counts what Publish sent.
type PublishSummary struct {
	Messages int
	Files    int
}

// Publish sends every record of files (as `tessera load` reads them:
// JSON documents, arrays, FeatureCollections, ndjson; "-" is standard
// input) to q, one message per item or collection, chunk messages at a
// time.
func Publish(ctx context.Context, q queue.Queue, files []string, stdin io.Reader, chunk int) (PublishSummary, error) {
	if chunk <= 0 {
		chunk = 1000
	}
	var sum PublishSummary
	buf := make([][]byte, 0, chunk)
	send := func() error {
		if len(buf) == 0 {
			return nil
		}
		if err := q.Publish(ctx, buf...); err != nil {
			return err
		}
		sum.Messages += len(buf)
		buf = make([][]byte, 0, chunk)
		return nil
	}
	add := func(doc []byte) error {
		buf = append(buf, doc)
		if len(buf) == chunk {
			return send()
		}
		return nil
	}
	for _, f := range files {
		if err := publishFile(f, stdin, add); err != nil {
			return sum, err
		}
		sum.Files++
	}
	return sum, send()
}

func publishFile(f string, stdin io.Reader, add func([]byte) error) error {
	r := stdin
	if f != "-" {
		fh, err := os.Open(f)
		if err != nil {
			return err
		}
		defer fh.Close()
		r = fh
	}
	if err := splitRecords(f, r, add); err != nil {
		return fmt.Errorf("%s: %w", f, err)
	}
	return nil
}

// splitRecords calls add with each record of one file: the lines of an
// ndjson file (or of stdin), the features of a FeatureCollection, the
// elements of an array, or the document itself. Lines that are not JSON
// are sent as they are: the worker dead-letters them with the reason.
func splitRecords(path string, r io.Reader, add func([]byte) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	lines := path == "-"
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ndjson", ".jsonl", ".geojsonl":
		lines = true
	}
	if !lines {
		b, err := io.ReadAll(br)
		if err != nil {
			return err
		}
		b = bytes.TrimSpace(b)
		if !json.Valid(b) {
			// Perhaps concatenated documents: read it as lines.
			return splitLines(bytes.NewReader(b), add)
		}
		return splitDocument(b, add)
	}
	return splitLines(br, add)
}

func splitLines(r io.Reader, add func([]byte) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	for {
		b, err := br.ReadBytes('\n')
		if b = bytes.TrimSpace(b); len(b) > 0 {
			if e := add(b); e != nil {
				return e
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func splitDocument(b []byte, add func([]byte) error) error {
	if len(b) == 0 {
		return nil
	}
	if b[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(b, &arr); err != nil {
			return err
		}
		for _, d := range arr {
			if err := add(d); err != nil {
				return err
			}
		}
		return nil
	}
	var head struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if json.Unmarshal(b, &head) == nil && head.Type == "FeatureCollection" {
		for _, d := range head.Features {
			if err := add(d); err != nil {
				return err
			}
		}
		return nil
	}
	return add(b)
}
