package loader

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// raw is one undecoded record and where it came from.
type raw struct {
	where string // "file:line" or "file#index"
	doc   []byte
}

// Files expands paths (files or directories, "-" for standard input) into
// the list of files to read, in a stable order.
func Files(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		if p == "-" {
			out = append(out, p)
			continue
		}
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && isDataFile(path) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func isDataFile(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".json", ".geojson", ".ndjson", ".jsonl", ".geojsonl":
		return true
	}
	return false
}

func isLines(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".ndjson", ".jsonl", ".geojsonl":
		return true
	}
	return p == "-"
}

// readFile sends the records of one file to out. Errors that make the
// whole file unreadable are returned; a bad line is sent as a record with
// its bytes so the decoder reports it in place.
func readFile(path string, r io.Reader, out func(raw)) error {
	br := bufio.NewReaderSize(r, 1<<20)
	if !isLines(path) {
		// A JSON file holds one document, an array, or a FeatureCollection;
		// a file of concatenated objects is read as lines.
		head, _ := br.Peek(1 << 16)
		if !looksLikeLines(head) {
			b, err := io.ReadAll(br)
			if err != nil {
				return err
			}
			return splitDocument(path, b, out)
		}
	}
	line := 0
	for {
		b, err := br.ReadBytes('\n')
		if len(b) > 0 {
			line++
			b = bytes.TrimSpace(b)
			if len(b) > 0 {
				out(raw{where: fmt.Sprintf("%s:%d", path, line), doc: b})
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

// looksLikeLines reports whether a .json file is newline-delimited: its
// first line is a complete JSON value and more follows.
func looksLikeLines(head []byte) bool {
	i := bytes.IndexByte(head, '\n')
	if i < 0 {
		return false
	}
	first := bytes.TrimSpace(head[:i])
	rest := bytes.TrimSpace(head[i:])
	return len(first) > 0 && len(rest) > 0 && json.Valid(first)
}

// splitDocument sends a whole-file document: a FeatureCollection's
// features, an array's elements, or the document itself.
func splitDocument(path string, b []byte, out func(raw)) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return fmt.Errorf("%s: empty file", path)
	}
	if b[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(b, &arr); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for i, d := range arr {
			out(raw{where: fmt.Sprintf("%s#%d", path, i), doc: d})
		}
		return nil
	}
	var head struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		out(raw{where: path, doc: b}) // reported by the decoder
		return nil
	}
	if head.Type == "FeatureCollection" {
		for i, d := range head.Features {
			out(raw{where: fmt.Sprintf("%s#features[%d]", path, i), doc: d})
		}
		return nil
	}
	out(raw{where: path, doc: b})
	return nil
}
