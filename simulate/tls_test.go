package simulate

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// tlsEndpoint starts a world without services and, on a loopback port, the
// TLS listener the upstream's HTTPS port uses, serving "ok" over HTTP. It
// returns the world, the address and a pool holding the lab CA.
// prepare, if set, adjusts the TLS state before the listener starts.
func tlsEndpoint(t testing.TB, o Options, prepare func(*tlsState)) (*World, string, *x509.CertPool) {
	t.Helper()
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	w := testWorld(t, o)
	st, err := w.tlsSetup()
	if err != nil {
		t.Fatalf("tlsSetup: %v", err)
	}
	if prepare != nil {
		prepare(st)
	}
	ca := st.ca
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl := w.newTLSListener(ln, "upstream-https", DefaultTLSHost)
	srv := &http.Server{Handler: http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { io.WriteString(rw, "ok") }),
		ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(tl) }()
	t.Cleanup(func() {
		_ = srv.Close()
		tl.Wait()
	})
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	return w, ln.Addr().String(), roots
}

// fetch connects with TLS as cfg says, sends GET / and reads the answer
// (some failures, such as a missing client certificate under TLS 1.3,
// show only then). It returns the connection state of a finished
// handshake.
func fetch(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	d := &net.Dialer{Timeout: 5 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	cs := c.ConnectionState()
	if _, err := fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", cfg.ServerName); err != nil {
		return cs, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return cs, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && string(b) != "ok" {
		err = fmt.Errorf("body %q", b)
	}
	return cs, err
}

func certSpec(profile string) faults.Spec {
	return faults.Spec{Kind: "tls.cert", Fault: &faults.TLSCert{Profile: profile}}
}

func wantInvalid(reason x509.InvalidReason) func(error) bool {
	return func(err error) bool {
		var e x509.CertificateInvalidError
		return errors.As(err, &e) && e.Reason == reason
	}
}

func wantUnknownAuthority(err error) bool {
	var e x509.UnknownAuthorityError
	return errors.As(err, &e)
}

func TestCertProfilesGoClient(t *testing.T) {
	w, addr, roots := tlsEndpoint(t, Options{}, nil)
	const host = "fe3.delivery.mp.microsoft.com"
	ok := func(err error) bool { return err == nil }
	for _, tc := range []struct {
		profile string
		trusted func(error) bool // with the lab CA in the client's roots
		detail  string
	}{
		{"", ok, ""},
		{"expired", wantInvalid(x509.Expired), "current time"},
		{"not-yet-valid", wantInvalid(x509.Expired), "is before"},
		{"wrong-host", func(err error) bool {
			var e x509.HostnameError
			return errors.As(err, &e) && e.Host == host && e.Certificate.DNSNames[0] == WrongHostName
		}, ""},
		{"self-signed", wantUnknownAuthority, ""},
		{"untrusted-ca", wantUnknownAuthority, ""},
		{"revoked", ok, ""}, // Go clients never check revocation
		{"missing-intermediate", wantUnknownAuthority, ""},
		// The chain builder reports the SHA-1 signature as the reason it
		// found no issuer; checkSHA1 gets the InsecureAlgorithmError itself.
		{"sha1", wantUnknownAuthority, `x509: cannot verify signature: insecure algorithm ECDSA-SHA1`},
		{"rsa1024", ok, ""}, // Go accepts RSA keys of 1024 bits and more
		{"no-serverauth", wantInvalid(x509.IncompatibleUsage), ""},
	} {
		t.Run(orGood(tc.profile), func(t *testing.T) {
			var specs []faults.Spec
			if tc.profile != "" {
				specs = append(specs, certSpec(tc.profile))
			}
			activate(t, w, specs...)
			cs, err := fetch(addr, &tls.Config{RootCAs: roots, ServerName: host})
			if !tc.trusted(err) || (tc.detail != "" && !strings.Contains(fmt.Sprint(err), tc.detail)) {
				t.Fatalf("trusting the lab CA: err = %v (%T)", err, errors.Unwrap(err))
			}
			t.Logf("trusting the lab CA: %v", err)
			// Without the lab CA, Go still reports validity and name
			// errors first; everything else is an unknown authority.
			untrusted := wantUnknownAuthority
			switch tc.profile {
			case "expired", "not-yet-valid", "wrong-host":
				untrusted = tc.trusted
			}
			_, err = fetch(addr, &tls.Config{RootCAs: x509.NewCertPool(), ServerName: host})
			if !untrusted(err) {
				t.Fatalf("not trusting the lab CA: err = %v", err)
			}
			if tc.profile == "sha1" {
				checkSHA1(t, addr, host)
			}
			if tc.profile == "revoked" {
				checkRevokedStaple(t, w, cs)
			}
			if tc.profile == "rsa1024" {
				if n := cs.PeerCertificates[0].PublicKey; fmt.Sprintf("%T", n) != "*rsa.PublicKey" {
					t.Errorf("rsa1024 leaf key %T", n)
				}
			}
		})
	}
}

// checkSHA1 looks at the chain a sha1 profile presents: the leaf's
// signature by the intermediate is refused as insecure.
func checkSHA1(t *testing.T, addr, host string) {
	t.Helper()
	cs, err := fetch(addr, &tls.Config{InsecureSkipVerify: true, ServerName: host})
	if err != nil {
		t.Fatal(err)
	}
	leaf, inter := cs.PeerCertificates[0], cs.PeerCertificates[1]
	err = leaf.CheckSignatureFrom(inter)
	var e x509.InsecureAlgorithmError
	if leaf.SignatureAlgorithm != x509.ECDSAWithSHA1 || !errors.As(err, &e) || x509.SignatureAlgorithm(e) != x509.ECDSAWithSHA1 {
		t.Errorf("sha1 leaf: algorithm %v, CheckSignatureFrom = %v; want x509.InsecureAlgorithmError(ECDSA-SHA1)", leaf.SignatureAlgorithm, err)
	}
}

// checkRevokedStaple asserts what a client that checks revocation would
// see: the stapled OCSP answer says revoked.
func checkRevokedStaple(t *testing.T, w *World, cs tls.ConnectionState) {
	t.Helper()
	st, _ := w.tlsSetup()
	resp, err := ocsp.ParseResponseForCert(cs.OCSPResponse, cs.PeerCertificates[0], st.is.inter)
	if err != nil {
		t.Fatalf("stapled OCSP response: %v", err)
	}
	if resp.Status != ocsp.Revoked {
		t.Errorf("stapled OCSP status %d, want revoked", resp.Status)
	}
}

func TestTLSFaultKindsGoClient(t *testing.T) {
	w, addr, roots := tlsEndpoint(t, Options{}, nil)
	const host = "wsus.lab"
	for _, tc := range []struct {
		name  string
		spec  faults.Spec
		cfg   func(*tls.Config)
		check func(error) bool
	}{
		{"reset", faults.Spec{Kind: "tls.reset", Fault: &faults.TLSReset{}}, nil,
			func(err error) bool { return errors.Is(err, syscall.ECONNRESET) }},
		{"alert handshake_failure", faults.Spec{Kind: "tls.alert", Fault: &faults.TLSAlert{Alert: "handshake_failure"}}, nil,
			remoteAlert("tls: handshake failure")},
		{"alert protocol_version", faults.Spec{Kind: "tls.alert", Fault: &faults.TLSAlert{Alert: "protocol_version"}}, nil,
			remoteAlert("tls: protocol version not supported")},
		{"version max 1.1", faults.Spec{Kind: "tls.version", Fault: &faults.TLSVersion{Max: "1.1"}}, nil,
			remoteAlert("tls: protocol version not supported")},
		{"version min 1.3, client max 1.2", faults.Spec{Kind: "tls.version", Fault: &faults.TLSVersion{Min: "1.3"}},
			func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }, remoteAlert("tls: protocol version not supported")},
		{"version min 1.3, client with 1.3", faults.Spec{Kind: "tls.version", Fault: &faults.TLSVersion{Min: "1.3"}}, nil,
			func(err error) bool { return err == nil }},
		{"client_cert require", faults.Spec{Kind: "tls.client_cert", Fault: &faults.TLSClientCert{}}, nil,
			remoteAlert("tls: certificate required")},
		{"client_cert require, TLS 1.2", faults.Spec{Kind: "tls.client_cert", Fault: &faults.TLSClientCert{Mode: "require"}},
			func(c *tls.Config) { c.MaxVersion = tls.VersionTLS12 }, remoteAlert("tls: handshake failure")},
		{"client_cert request", faults.Spec{Kind: "tls.client_cert", Fault: &faults.TLSClientCert{Mode: "request"}}, nil,
			func(err error) bool { return err == nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			activate(t, w, tc.spec)
			since := w.journal.lastSeq()
			cfg := &tls.Config{RootCAs: roots, ServerName: host}
			if tc.cfg != nil {
				tc.cfg(cfg)
			}
			_, err := fetch(addr, cfg)
			if !tc.check(err) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			t.Logf("client: %v", err)
			waitEvent(t, w, since, func(e Event) bool {
				return e.Kind == EventFault && e.Fault == tc.spec.Kind && e.Phase == profile.PhaseHandshake && e.Rule == 1 && e.Host == host
			})
		})
	}
	activate(t, w)
	if _, err := fetch(addr, &tls.Config{RootCAs: roots, ServerName: host}); err != nil {
		t.Fatalf("after the faults: %v", err)
	}
}

// remoteAlert matches the error of a Go client that received a TLS alert.
func remoteAlert(text string) func(error) bool {
	return func(err error) bool {
		var oe *net.OpError
		return errors.As(err, &oe) && oe.Op == "remote error" && oe.Err.Error() == text
	}
}

// waitEvent waits (up to 5s) for a journal event after since that ok
// accepts: one already there, or the next ones as they are added.
func waitEvent(t testing.TB, w *World, since uint64, ok func(Event) bool) Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	added := w.journal.Subscribe(ctx, 0) // before the look back: nothing falls between
	for _, e := range w.journal.Events(since, nil) {
		if ok(e) {
			return e
		}
	}
	for e := range added {
		if e.Seq > since && ok(e) {
			return e
		}
	}
	// Timed out; a subscriber may also miss events under a flood.
	for _, e := range w.journal.Events(since, nil) {
		if ok(e) {
			return e
		}
		t.Logf("event %+v", e)
	}
	t.Fatal("expected journal event not found")
	return Event{}
}

// clientHello captures the first record a Go TLS client sends: a real
// ClientHello for host.
func clientHello(t testing.TB, host string) []byte {
	t.Helper()
	a, b := net.Pipe()
	go func() {
		_ = tls.Client(a, &tls.Config{ServerName: host}).Handshake()
	}()
	defer a.Close()
	defer b.Close()
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(b, hdr); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, int(hdr[3])<<8|int(hdr[4]))
	if _, err := io.ReadFull(b, body); err != nil {
		t.Fatal(err)
	}
	return append(hdr, body...)
}

// TestTLSBadInput sends what a broken or hostile client sends: each such
// connection ends (at once, or at the handshake deadline), the journal says
// why, and a good client is served meanwhile.
func TestTLSBadInput(t *testing.T) {
	const deadline = 300 * time.Millisecond
	w, addr, roots := tlsEndpoint(t, Options{}, func(st *tlsState) { st.handshakeTimeout = deadline })
	hello := clientHello(t, "wsus.lab")
	for _, tc := range []struct {
		name    string
		send    []byte
		timeout bool // the connection ends only at the handshake deadline
	}{
		{"http to the https port", []byte("GET / HTTP/1.1\r\nHost: wsus.lab\r\n\r\n"), false},
		{"garbage handshake record", []byte{0x16, 3, 1, 0, 5, 0xde, 0xad, 0xbe, 0xef, 0}, false},
		{"truncated client hello", hello[:len(hello)/2], true},
		{"nothing at all", nil, true},
		{"client stops after its hello", hello, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			since := w.journal.lastSeq()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			if _, err := c.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			// A good client is not held up by the broken one.
			if _, err := fetch(addr, &tls.Config{RootCAs: roots, ServerName: "wsus.lab"}); err != nil {
				t.Fatalf("good client meanwhile: %v", err)
			}
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err = io.Copy(io.Discard, c)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("the server kept the connection open for 5s")
			}
			if took := time.Since(start); tc.timeout && took < deadline-50*time.Millisecond {
				t.Errorf("connection ended after %v, before the handshake deadline", took)
			}
			waitEvent(t, w, since, func(e Event) bool {
				return e.Kind == EventHandshake && strings.HasPrefix(e.Detail, "failed: ")
			})
		})
	}
}

func TestTLSJournalsHandshakes(t *testing.T) {
	w, addr, roots := tlsEndpoint(t, Options{}, nil)
	since := w.journal.lastSeq()
	if _, err := fetch(addr, &tls.Config{RootCAs: roots, ServerName: "Wsus.Lab", MaxVersion: tls.VersionTLS12}); err != nil {
		t.Fatal(err)
	}
	e := waitEvent(t, w, since, func(e Event) bool { return e.Kind == EventHandshake })
	if e.Host != "wsus.lab" || !strings.HasPrefix(e.Detail, "TLS 1.2 TLS_ECDHE_ECDSA") || e.Service != "upstream-https" || e.Conn == 0 {
		t.Errorf("handshake event %+v", e)
	}
	// A client without SNI (connecting by IP) gets the default name.
	cs, err := fetch(addr, &tls.Config{RootCAs: roots, ServerName: DefaultTLSHost, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10})
	if err != nil || cs.Version != tls.VersionTLS10 {
		t.Fatalf("TLS 1.0 client: %v (version %x)", err, cs.Version)
	}
	cs, err = fetch(addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil || cs.PeerCertificates[0].DNSNames[0] != DefaultTLSHost {
		t.Fatalf("no SNI: %v", err)
	}
	// A name the lab CA may not issue for gets the default name too.
	cs, err = fetch(addr, &tls.Config{InsecureSkipVerify: true, ServerName: "www.example.com"})
	if err != nil || cs.PeerCertificates[0].DNSNames[0] != DefaultTLSHost {
		t.Fatalf("foreign SNI: %v", err)
	}
}

func TestInterceptWanted(t *testing.T) {
	w, _, _ := tlsEndpoint(t, Options{InterceptHosts: []string{"*.corp.example"}}, nil)
	activate(t, w,
		faults.Spec{Kind: "tls.reset", Match: faults.Match{Host: "a.update.microsoft.com"}, Fault: &faults.TLSReset{}},
		faults.Spec{Kind: "http.status", Match: faults.Match{Host: "b.update.microsoft.com"}, Fault: &faults.HTTPStatus{Status: 503}},
		faults.Spec{Kind: "tcp.reset", Match: faults.Match{Host: "c.update.microsoft.com", Path: "/x"}, Fault: &faults.TCPReset{PhaseBound: faults.PhaseBound{At: profile.PhaseBody}}},
		faults.Spec{Kind: "tcp.reset", Match: faults.Match{Host: "d.update.microsoft.com"}, Fault: &faults.TCPReset{PhaseBound: faults.PhaseBound{At: profile.PhaseBody}}},
	)
	set := w.Active().Set
	for host, want := range map[string]bool{
		"a.update.microsoft.com:443": true, "b.update.microsoft.com:443": true, "c.update.microsoft.com:443": true,
		"d.update.microsoft.com:443": false, "wsus.corp.example:8531": true, "www.example.com:443": false,
	} {
		if got := w.interceptWanted(set, host); got != want {
			t.Errorf("interceptWanted(%s) = %v, want %v", host, got, want)
		}
	}
	ca, _ := w.LabCA()
	if !ca.Permits("wsus.corp.example") {
		t.Errorf("the lab CA does not permit the configured names: %v", ca.Domains())
	}
}
