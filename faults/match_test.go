package faults

import (
	"testing"

	"github.com/wufault/wufault/client/profile"
)

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		pat, s string
		want   bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything.at.all", true},
		{"*.update.microsoft.com", "fe2.update.microsoft.com", true},
		{"*.update.microsoft.com", "a.b.update.microsoft.com", true},
		{"*.update.microsoft.com", "update.microsoft.com", false},
		{"*.update.microsoft.com", "update.microsoft.com.evil", false},
		{"/clientwebservice/*", "/clientwebservice/client.asmx", true},
		{"/clientwebservice/*", "/simpleauthwebservice/simpleauth.asmx", false},
		{"*wuident.cab", "/selfupdate/wuident.cab", true},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXcYYb", false},
		{"exact.host", "exact.host", true},
		{"exact.host", "exact.hostx", false},
		{"**a", "bba", true},
	} {
		if got := Glob(tc.pat, tc.s); got != tc.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tc.pat, tc.s, got, tc.want)
		}
	}
}

func TestMatch(t *testing.T) {
	m := Match{Host: "*.Update.Microsoft.com", Path: "/ClientWebService/*", Method: "post", Class: profile.ClassScan}
	hit := Target{Host: "FE2.update.microsoft.com:443", Path: "/clientwebservice/client.asmx", Method: "POST", Class: profile.ClassScan}
	if !m.Matches(hit) {
		t.Errorf("%+v does not match %+v", m, hit)
	}
	for name, miss := range map[string]Target{
		"other host":   {Host: "example.test", Path: hit.Path, Method: "POST", Class: profile.ClassScan},
		"other path":   {Host: hit.Host, Path: "/selfupdate/wuident.cab", Method: "POST", Class: profile.ClassScan},
		"no path":      {Host: hit.Host, Method: "CONNECT"},
		"other method": {Host: hit.Host, Path: hit.Path, Method: "GET", Class: profile.ClassScan},
		"other class":  {Host: hit.Host, Path: hit.Path, Method: "POST", Class: profile.ClassDownload},
	} {
		if m.Matches(miss) {
			t.Errorf("%s: %+v matches %+v", name, m, miss)
		}
	}
	if !(Match{}).Matches(Target{}) {
		t.Error("the empty match must match everything")
	}
	if !m.NeedsHTTP() || (Match{Host: "x"}).NeedsHTTP() {
		t.Error("NeedsHTTP wrong")
	}
	if !m.MatchesHost("a.update.microsoft.com.") || m.MatchesHost("update.microsoft.com") {
		t.Error("MatchesHost wrong")
	}
}

func TestMatchValidate(t *testing.T) {
	if err := (Match{Host: "*.x", Path: "/a", Method: "GET", Class: profile.ClassScan}).Validate(); err != nil {
		t.Errorf("valid match rejected: %v", err)
	}
	for _, m := range []Match{{Class: "scanning"}, {Host: "a/b"}, {Path: "relative"}, {Method: "GE T"}} {
		if err := m.Validate(); err == nil {
			t.Errorf("%+v accepted", m)
		}
	}
}

// A Set matches as Match.Matches does (patterns and paths in any case,
// non-ASCII paths included) and asks its rules about an event without
// allocating: it runs per request and per DNS query.
func TestSetSelectFoldsCaseWithoutAllocating(t *testing.T) {
	s := NewSet([]Spec{
		{Kind: "http.status", Match: Match{Host: "*.Update.Microsoft.com", Path: "/ClientWebService/*"}, Fault: &HTTPStatus{Status: 500}},
		{Kind: "http.status", Match: Match{Path: "/Ünïcode/*"}, Fault: &HTTPStatus{Status: 503}},
		{Kind: "dns.nxdomain", Match: Match{Host: "nx.update.microsoft.com"}, Fault: new(NXDomain)},
	}, 1, nil)
	for _, tc := range []struct {
		t    Target
		want int // rules of the http layer selected
	}{
		{Target{Host: "fe2.update.microsoft.com", Path: "/clientwebservice/client.asmx"}, 1},
		{Target{Host: "FE2.update.microsoft.com.:80", Path: "/CLIENTWEBSERVICE/Client.asmx"}, 1},
		{Target{Host: "fe2.update.microsoft.com", Path: "/SimpleAuthWebService/x"}, 0},
		{Target{Host: "example.test", Path: "/ÜNÏCODE/x"}, 1},
		{Target{Host: "example.test", Path: "/unicode/x"}, 0},
	} {
		rs := s.Select("http", tc.t)
		if len(rs) != tc.want {
			t.Errorf("%+v: %d rules selected, want %d", tc.t, len(rs), tc.want)
		}
		for _, r := range rs {
			if !r.Match.Matches(tc.t) {
				t.Errorf("%+v: selected by %s, which Match.Matches refuses", tc.t, r.Name())
			}
		}
	}
	miss := Target{Host: "fe2.update.microsoft.com", Path: "/SimpleAuthWebService/SimpleAuth.asmx", Method: "POST", Class: profile.ClassScan}
	if n := testing.AllocsPerRun(100, func() {
		_ = s.Select("http", miss)
		_ = s.SelectDNS(Target{Host: "fe2.update.microsoft.com", QType: "A"})
	}); n != 0 {
		t.Errorf("a selection that matches nothing allocates %v times", n)
	}
}
