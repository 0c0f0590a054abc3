package faults

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	ntlmssp "github.com/Azure/go-ntlmssp"

	"github.com/wufault/wufault/faults/ntlm"
)

// FuzzProxyAuthHeader sends two Proxy-Authorization values on one
// connection through every reject mode: the hook never panics and answers
// 407 (or passes to next).
func FuzzProxyAuthHeader(f *testing.F) {
	neg, _ := ntlmssp.NewNegotiateMessage("", "")
	f.Add("NTLM "+b64(neg), "NTLM "+b64(specAuthForFuzz()))
	f.Add(spnegoInit([]asn1OID{ntlm.OIDKerberos, ntlm.OIDNTLMSSP}, neg), spnegoResp(neg))
	f.Add("Negotiate "+b64(neg), "Negotiate YIIB")
	f.Add(basicAuth(`LAB\alice`, "Passw0rd!"), "Basic Og==")
	f.Add("ntlm", "Digest x")
	modes := []*ProxyAuth{
		{Users: lab}, {Users: lab, Reject: "always"}, {Users: lab, Reject: "loop"},
		{Users: lab, Reject: "scheme-mismatch"}, {Reject: "loop", NTLMv1: true},
	}
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	f.Fuzz(func(t *testing.T, h1, h2 string) {
		for _, pa := range modes {
			ctx := WithConnID(context.Background(), 1)
			for _, h := range []string{h1, h2} {
				r := httptest.NewRequestWithContext(ctx, http.MethodConnect, "http://wu.example.test:443", nil)
				r.Header.Set("Proxy-Authorization", h)
				w := httptest.NewRecorder()
				pa.ServeProxy(w, r, next)
				if w.Code != http.StatusOK && w.Code != http.StatusProxyAuthRequired {
					t.Fatalf("status %d for %q", w.Code, h)
				}
			}
		}
	})
}

// specAuthForFuzz is an AUTHENTICATE message with a v2-sized response.
func specAuthForFuzz() []byte {
	return (&ntlm.Authenticate{Flags: ntlm.FlagUnicode, User: "alice", Domain: "LAB", NTResponse: make([]byte, 64)}).Marshal()
}
