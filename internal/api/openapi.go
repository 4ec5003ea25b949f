package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/tessera-geo/tessera/internal/httpx"
)

//go:embed openapi.yaml
var openapiYAML []byte

type openAPIDoc struct {
	yaml []byte
	json []byte
	page []byte
}

func loadOpenAPI() (openAPIDoc, error) {
	var v any
	if err := yaml.Unmarshal(openapiYAML, &v); err != nil {
		return openAPIDoc{}, fmt.Errorf("openapi.yaml: %w", err)
	}
	js, err := json.Marshal(v)
	if err != nil {
		return openAPIDoc{}, fmt.Errorf("openapi.yaml: %w", err)
	}
	page, err := renderDocPage(js)
	if err != nil {
		return openAPIDoc{}, err
	}
	return openAPIDoc{yaml: openapiYAML, json: js, page: page}, nil
}

// serviceDesc serves the OpenAPI document, as JSON unless YAML is asked
// for (f=yaml, or an Accept header naming YAML or the OpenAPI YAML type).
func (s *Server) serviceDesc(w http.ResponseWriter, r *http.Request) error {
	doc, err := s.openapi()
	if err != nil {
		return err
	}
	accept := r.Header.Get("Accept")
	wantYAML := r.URL.Query().Get("f") == "yaml" ||
		strings.Contains(accept, "yaml") ||
		(strings.Contains(accept, "application/vnd.oai.openapi") && !strings.Contains(accept, "application/vnd.oai.openapi+json"))
	if wantYAML {
		httpx.WriteBytes(w, http.StatusOK, "application/vnd.oai.openapi;version=3.0", doc.yaml)
		return nil
	}
	httpx.WriteBytes(w, http.StatusOK, typeOpenAPI, doc.json)
	return nil
}

func (s *Server) serviceDoc(w http.ResponseWriter, r *http.Request) error {
	doc, err := s.openapi()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	httpx.WriteBytes(w, http.StatusOK, "text/html; charset=utf-8", doc.page)
	return nil
}

var docPage = template.Must(template.New("doc").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}
code{background:#f3f3f3;padding:0 .2em}.m{display:inline-block;min-width:4em;font-weight:bold}</style></head>
<body><h1>{{.Title}}</h1><p>{{.Description}}</p>
<p>The machine-readable description is at <a href="api">api</a> (JSON) and <a href="api?f=yaml">api?f=yaml</a>.</p>
{{range .Ops}}<h3><span class="m">{{.Method}}</span> <code>{{.Path}}</code></h3><p>{{.Summary}}</p>
{{if .Params}}<ul>{{range .Params}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}{{end}}
</body></html>`))

func renderDocPage(spec []byte) ([]byte, error) {
	var doc struct {
		Info struct {
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"info"`
		Paths map[string]map[string]struct {
			Summary    string `json:"summary"`
			Parameters []struct {
				Name string `json:"name"`
				Ref  string `json:"$ref"`
			} `json:"parameters"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, err
	}
	type op struct {
		Method, Path, Summary string
		Params                []string
	}
	var ops []op
	for path, ms := range doc.Paths {
		for m, o := range ms {
			var ps []string
			for _, p := range o.Parameters {
				if p.Name != "" {
					ps = append(ps, p.Name)
				} else {
					ps = append(ps, p.Ref[strings.LastIndex(p.Ref, "/")+1:])
				}
			}
			ops = append(ops, op{strings.ToUpper(m), path, o.Summary, ps})
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	var b strings.Builder
	err := docPage.Execute(&b, map[string]any{"Title": doc.Info.Title, "Description": doc.Info.Description, "Ops": ops})
	return []byte(b.String()), err
}
