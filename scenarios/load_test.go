package scenarios

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/faults"
)

func TestCatalogLoads(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatalf("catalog: %v", err)
	}
	if len(all) == 0 {
		t.Fatal("empty catalog")
	}
	for _, sc := range all {
		if sc.Expect == nil || sc.Expect.Confidence == "" || sc.Expect.Source == "" {
			t.Errorf("%s: catalog scenarios carry expect.code, confidence and source", sc.File)
		}
		if sc.Summary == "" {
			t.Errorf("%s: no summary", sc.File)
		}
		if want := "catalog/" + sc.Name + ".yaml"; sc.File != want {
			t.Errorf("%s holds scenario %q: want the file %s", sc.File, sc.Name, want)
		}
		// The listed codes are what the scenario reproduces: its expected
		// failure code, and none for a scenario that expects success.
		if sc.Expect != nil {
			if c := sc.Expect.Code; c != codes.OK && !slices.Contains(sc.Codes, c) {
				t.Errorf("%s: codes %v lack the expected %s", sc.File, sc.Codes, c.Hex())
			} else if c == codes.OK && len(sc.Codes) > 0 {
				t.Errorf("%s: expects success but lists codes %v", sc.File, sc.Codes)
			}
		}
	}
}

func TestLoadExample(t *testing.T) {
	sc, err := Find("connection-aborted-scan")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Seed != 1 || sc.Profile.Generation != "modern" || len(sc.Faults) != 1 {
		t.Fatalf("decoded %+v", sc)
	}
	sp := sc.Faults[0]
	r, ok := sp.Fault.(*faults.TCPReset)
	if !ok || sp.Kind != "tcp.reset" || r.At != profile.PhaseBody || r.AfterBytes != 512 {
		t.Errorf("fault = %s %#v", sp.Kind, sp.Fault)
	}
	if sp.Match.Class != profile.ClassScan || sp.Match.Path != "/ClientWebService/*" || sp.When != (faults.When{}) {
		t.Errorf("match/when = %+v %+v", sp.Match, sp.When)
	}
	if sc.Expect.Code != codes.MustParse("0x80072EFE") || sc.Fixes[1].Outcome != OutcomeNoEffect {
		t.Errorf("expect/fixes = %+v %+v", sc.Expect, sc.Fixes)
	}
}

// TestBrokenFileReportsEveryProblem pins each problem to its line: a lost
// line number or an accepted typo fails here.
func TestBrokenFileReportsEveryProblem(t *testing.T) {
	_, err := LoadFile("testdata/broken.yaml")
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want a *LoadError", err)
	}
	want := []string{
		`testdata/broken.yaml:1: name: "Broken_Name" is not kebab-case`,
		`testdata/broken.yaml:3: codes[1]: `,
		`testdata/broken.yaml:4: seed: want an integer, got "one"`,
		`testdata/broken.yaml:7: profile: unknown key "proxi" (did you mean "proxy"?)`,
		`testdata/broken.yaml:10: faults[0] (tcp.reset): match.class: unknown class "scanning"`,
		`testdata/broken.yaml:12: faults[0] (tcp.reset): unknown key "after_byte" (did you mean "after_bytes"?)`,
		`testdata/broken.yaml:13: faults[1].kind: unknown fault kind "tcp.rst" (did you mean "tcp.reset"?)`,
		`testdata/broken.yaml:15: faults[2] (tcp.stall).duration: "30" is not a duration`,
		`testdata/broken.yaml:16: faults[2] (tcp.stall): after_bytes: must be >= 0, got -1`,
		`testdata/broken.yaml:17: faults[2] (tcp.stall): when.first: first, every and nth exclude one another`,
		`testdata/broken.yaml:19: faults[3] (dns.answer): address: "not-an-ip" is not an IP address`,
		`testdata/broken.yaml:20: faults[4]: missing required key "kind"`,
		`testdata/broken.yaml:21: expect: missing required key "code"`,
		`testdata/broken.yaml:23: expect.confidence: "certain" is not one of high, medium-high, medium, medium-low, low`,
		`testdata/broken.yaml:25: fixes[0].fix: unknown fix "flush-dsn" (did you mean "flush-dns"?)`,
		`testdata/broken.yaml:26: fixes[1].outcome: "maybe" is not one of fixes, no-effect, partial`,
	}
	got := strings.Split(err.Error(), "\n")
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || strings.HasPrefix(g, w)
		}
		if !found {
			t.Errorf("missing problem %q", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), err)
	}
}

func TestLoadRejects(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"empty":          {"", "x.yaml:1: empty scenario"},
		"not a mapping":  {"- a\n- b\n", "x.yaml:1: want a mapping"},
		"two documents":  {"name: a\n---\nname: b\n", "x.yaml:2: more than one YAML document"},
		"syntax":         {"name: a\nfaults: [\n", "x.yaml:2: invalid YAML"},
		"duplicate key":  {"name: a\nname: b\n", `x.yaml:2: name: duplicate key (first on line 1)`},
		"fault not map":  {"name: a\nfaults: [tcp.reset]\n", "x.yaml:2: faults[0]: want a fault"},
		"bad dns":        {"name: a\nprofile:\n  dns: [lab, nowhere]\n", `x.yaml:3: profile.dns[1]: "nowhere" is not lab, healthy, an IP address or host:port`},
		"bad cipher":     {"name: a\nprofile:\n  cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA, TLS_MADE_UP]\n", `x.yaml:3: profile.cipher_suites[1]: "TLS_MADE_UP" is not a TLS cipher suite name`},
		"bool as string": {"name: a\nprofile: {generation: true}\n", `x.yaml:2: profile.generation: want a string, got true`},
		"unknown code":   {"name: a\nexpect: {code: 0x80071234}\n", "x.yaml:2: expect.code: 0x80071234 is not in the code catalog"},
		"bad hex code":   {"name: a\nexpect: {code: 0xZZ}\n", "x.yaml:2: expect.code: "},
		"bad direction":  {"name: a\nfaults:\n  - kind: tcp.reset\n    direction: sideways\n", `x.yaml:4: faults[0] (tcp.reset): direction: "sideways" is not one of down, up`},
		"bad rate":       {"name: a\nfaults: [{kind: tcp.bandwidth, rate: fast}]\n", `x.yaml:2: faults[0] (tcp.bandwidth).rate: "fast" is not a rate`},
		"bad when type":  {"name: a\nfaults: [{kind: dns.drop, when: {first: many}}]\n", `x.yaml:2: faults[0] (dns.drop): when.first: want an integer, got "many"`},
		"list as scalar": {"name: a\nfaults: {kind: dns.drop}\n", "x.yaml:2: faults: want a list, got a mapping"},
		"too big":        {"name: a\nnotes: " + strings.Repeat("x", MaxSize) + "\n", "x.yaml: larger than"},
		"bad hosts ip":   {"name: a\nprofile:\n  hosts:\n    - {host: wsus.lab, address: 10.0.0.300}\n", `x.yaml:4: profile.hosts[0].address: "10.0.0.300" is not an IP address`},
		// A typo'd key is an error at every level, on its own line.
		"typo top":         {"name: a\nsumary: b\n", `x.yaml:2: unknown key "sumary" (did you mean "summary"?)`},
		"typo match":       {"name: a\nfaults:\n  - kind: dns.drop\n    match: {hots: wsus.lab}\n", `x.yaml:4: faults[0] (dns.drop): match: unknown key "hots" (known keys: class, host, method, path)`},
		"typo when":        {"name: a\nfaults:\n  - kind: dns.drop\n    when:\n      frist: 1\n", `x.yaml:5: faults[0] (dns.drop): when: unknown key "frist"`},
		"typo expect":      {"name: a\nexpect:\n  code: 0x0\n  clas: scan\n", `x.yaml:4: expect: unknown key "clas" (did you mean "class"?)`},
		"typo fix":         {"name: a\nfixes:\n  - fix: flush-dns\n    outcome: fixes\n    wiht: [retry-later]\n", `x.yaml:5: fixes[0]: unknown key "wiht"`},
		"typo hosts":       {"name: a\nprofile:\n  hosts:\n    - host: wsus.lab\n      adress: 127.0.0.2\n", `x.yaml:5: profile.hosts[0]: unknown key "adress" (did you mean "address"?)`},
		"typo timeouts":    {"name: a\nprofile:\n  timeouts: {recieve: 1s}\n", `x.yaml:3: profile.timeouts: unknown key "recieve" (did you mean "receive"?)`},
		"typo credentials": {"name: a\nprofile:\n  proxy_credentials: {user: u, pasword: p}\n", `x.yaml:3: profile.proxy_credentials: unknown key "pasword" (did you mean "password"?)`},
		"typo auth user":   {"name: a\nfaults:\n  - kind: proxy.auth\n    users: [{user: u, pass: p}]\n", `x.yaml:4: faults[0] (proxy.auth).users[0]: unknown key "pass"`},
		"wrong code typed": {"name: a\nexpect: {code: 0x80072EFG}\n", "x.yaml:2: expect.code: "},
		"name empty":       {"name:\nseed: 1\n", "x.yaml:1: name: is empty"},
		"name empty quote": {"seed: 1\nname: \"\"\n", "x.yaml:2: name: is empty"},
		"name null":        {"name: ~\n", "x.yaml:1: name: is empty"},
		"name fuzz":        {"name: \nfaults: [] ", "x.yaml:1: name: is empty"},
		"wrong fix code":   {"name: a\nfixes:\n  - {fix: flush-dns, outcome: partial, code: 0x80071234}\n", "x.yaml:3: fixes[0].code: 0x80071234 is not in the code catalog"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Load(strings.NewReader(tc.yaml), "x.yaml")
			if err == nil {
				t.Fatalf("accepted; want a problem starting %q", tc.want)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if strings.HasPrefix(line, tc.want) {
					return
				}
			}
			t.Errorf("err = %v\nwant a line starting %q", err, tc.want)
		})
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range all {
		b, err := Marshal(sc)
		if err != nil {
			t.Fatalf("%s: %v", sc.Name, err)
		}
		again, err := Load(strings.NewReader(string(b)), sc.File)
		if err != nil {
			t.Fatalf("%s: reload: %v\n%s", sc.Name, err, b)
		}
		if strings.Contains(string(b), "[redacted]") {
			continue // passwords never leave in clear
		}
		if !reflect.DeepEqual(sc, again) {
			t.Errorf("%s: round trip differs:\n%s", sc.Name, b)
		}
	}
}

// TestEveryKindRoundTrips decodes every registered kind from YAML and back:
// a kind whose parameters do not survive the trip fails here.
func TestEveryKindRoundTrips(t *testing.T) {
	examples := map[string]string{
		"dns.answer": "address: 192.0.2.1", "dns.delay": "duration: 2s", "dns.nxdomain": "negative_ttl: 5m",
		"tcp.latency": "latency: 100ms\n    jitter: 10ms", "tcp.bandwidth": "rate: 64KiB/s", "tcp.reset": "at: body\n    after_bytes: 10",
		"tls.cert": "profile: expired", "tls.alert": "alert: handshake_failure", "tls.version": "min: \"1.0\"\n    max: \"1.1\"",
		"http.status": "status: 503\n    body: busy\n    headers: {Retry-After: \"120\"}", "http.malformed": "variant: http09",
		"http.content_type": "type: text/html", "http.truncate": "after_bytes: 100\n    length: match",
		"proxy.auth": "schemes: [ntlm]\n    users: [{user: alice, password: pw}]", "proxy.deny_connect": "status: 403",
	}
	for _, kind := range faults.Kinds() {
		y := "name: k\nfaults:\n  - kind: " + kind + "\n    match: {host: \"*.lab\"}\n    when: {first: 1}\n"
		if ex, ok := examples[kind]; ok {
			y += "    " + ex + "\n"
		}
		sc, err := Load(strings.NewReader(y), kind+".yaml")
		if err != nil {
			t.Errorf("%s: %v", kind, err)
			continue
		}
		b, err := Marshal(sc)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		again, err := Load(strings.NewReader(string(b)), kind+".yaml")
		if err != nil {
			t.Errorf("%s: reload: %v\n%s", kind, err, b)
			continue
		}
		if kind == "proxy.auth" {
			continue // the password is redacted on the way out
		}
		if !reflect.DeepEqual(sc, again) {
			t.Errorf("%s: round trip differs:\n%s", kind, b)
		}
	}
}

func TestFindByPathAndName(t *testing.T) {
	if _, err := Find("connection-aborted-scn"); err == nil || !strings.Contains(err.Error(), `did you mean "connection-aborted-scan"`) {
		t.Errorf("err = %v", err)
	}
	if _, err := Find("testdata/nope.yaml"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want not exist", err)
	}
}
