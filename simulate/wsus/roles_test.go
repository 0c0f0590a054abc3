package wsus

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A client that called a Microsoft name is handed Microsoft's role hosts:
// the SLS answer names fe3, the redirector cab fe2 and
// download.windowsupdate.com, and content URLs carry the content hosts
// (the lab's port written in); a WSUS client gets its own host back.
func TestRoleURLs(t *testing.T) {
	s := newTestServer(t, Options{ContentPort: func() int { return 8530 }})
	get := func(host, path string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "http://"+host+path, nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		return w
	}
	w := get(HostSLS, "/SLS/{"+ServiceIDMicrosoftUpdate+"}/x64/10.0.19045.0/0?CH=531&L=en-US&P=&PT=0x7")
	var sls slsXML
	if err := xml.Unmarshal(w.Body.Bytes(), &sls); err != nil || w.Code != 200 || sls.Client.URL != "https://"+HostFE3+"/ClientWebService/client.asmx" {
		t.Errorf("SLS answer %d %v %+v\n%s", w.Code, err, sls, w.Body)
	}
	w = get(HostRedirector, "/v6/windowsupdate/redir/wuredir.cab")
	files, err := readCAB(w.Body.Bytes())
	if err != nil || len(files) != 1 {
		t.Fatalf("wuredir.cab: %v", err)
	}
	var redir wuredirXML
	if err := xml.Unmarshal(files[0].Data, &redir); err != nil {
		t.Fatal(err)
	}
	if redir.RedirectorID != RedirectorID || !strings.HasPrefix(redir.Client.URL, "https://"+HostFE2+"/") || redir.Content.URL != "http://"+HostDownload {
		t.Errorf("Microsoft wuredir.xml %+v", redir)
	}
	var key string
	for k := range s.content {
		key = k
	}
	for _, tt := range []struct{ host, want string }{
		{HostFE2, "http://" + HostDownload + ":8530/c/msdownload/update/software/updt/" + key + ".cab"},
		{"wsus.lab:8530", "http://wsus.lab:8530/Content/" + key[38:] + "/" + key + ".cab"},
	} {
		r := httptest.NewRequest(http.MethodPost, "http://"+tt.host+"/ClientWebService/client.asmx", nil)
		if got := s.fileURL(r, key); got != tt.want {
			t.Errorf("file URL for a client of %s = %q, want %q", tt.host, got, tt.want)
		}
	}
	// fe3 clients are sent to both content networks, and both serve the file.
	hosts := map[string]bool{}
	for k := range s.content {
		r := httptest.NewRequest(http.MethodPost, "https://"+HostFE3+"/ClientWebService/client.asmx", nil)
		u := s.fileURL(r, k)
		host := strings.TrimPrefix(u, "http://")
		host = host[:strings.IndexByte(host, '/')]
		hosts[host] = true
		if w := get(host, strings.TrimPrefix(u, "http://"+host)); w.Code != 200 || w.Body.Len() == 0 {
			t.Errorf("GET %s: %d", u, w.Code)
		}
	}
	if !hosts[HostDownload+":8530"] || !hosts[HostDelivery+":8530"] {
		t.Errorf("fe3 content hosts %v", hosts)
	}
}
