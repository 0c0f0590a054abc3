package simulate

import (
	"embed"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// apiFiles are the control API's own description (api/openapi.json, also
// in docs/) and the console's assets.
//
//go:embed api
var apiFiles embed.FS

// openAPI is the OpenAPI document of the control API.
func openAPI() []byte {
	b, err := apiFiles.ReadFile("api/openapi.json")
	if err != nil {
		panic("simulate: embedded openapi.json: " + err.Error()) // a build without the file is broken
	}
	return b
}

// apiDoc is the part of the OpenAPI document GET / lists.
type apiDoc struct {
	Info struct {
		Title       string `json:"title"`
		Description string `json:"description"`
	} `json:"info"`
	Paths map[string]map[string]struct {
		Summary string `json:"summary"`
	} `json:"paths"`
}

// Endpoint is one route of the control API as GET / lists it.
type Endpoint struct {
	Method  string `json:"method"`
	Path    string `json:"path"`
	Summary string `json:"summary"`
}

// APIIndex is GET /: what the control API offers, from its OpenAPI
// document.
type APIIndex struct {
	Name        string     `json:"name"`
	Description string     `json:"description"`
	OpenAPI     string     `json:"openapi"`
	Console     string     `json:"console,omitempty"`
	Endpoints   []Endpoint `json:"endpoints"`
}

// apiIndex reads the index out of the OpenAPI document, paths in order.
func apiIndex() (APIIndex, error) {
	var d apiDoc
	if err := json.Unmarshal(openAPI(), &d); err != nil {
		return APIIndex{}, err
	}
	ix := APIIndex{Name: d.Info.Title, Description: d.Info.Description, OpenAPI: "/openapi.json"}
	for path, ops := range d.Paths {
		for method, op := range ops {
			ix.Endpoints = append(ix.Endpoints, Endpoint{Method: strings.ToUpper(method), Path: path, Summary: op.Summary})
		}
		if path == "/console" {
			ix.Console = path
		}
	}
	slices.SortFunc(ix.Endpoints, func(a, b Endpoint) int {
		return strings.Compare(a.Path+" "+a.Method, b.Path+" "+b.Method)
	})
	return ix, nil
}

func (c *controlService) index(rw http.ResponseWriter, r *http.Request) {
	ix, err := apiIndex()
	if err != nil {
		writeJSON(rw, http.StatusInternalServerError, apiError{Error: "api description: " + err.Error()})
		return
	}
	writeJSON(rw, http.StatusOK, ix)
}

func (c *controlService) openAPIDoc(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "application/json")
	_, _ = rw.Write(openAPI())
}
