package simulate

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/crypto/ocsp"
)

// PKIPath is the URL path under which the world serves its revocation
// data over plain HTTP (on the upstream ports): /ocsp (the OCSP responder,
// RFC 6960, POST or GET), /intermediate.crl and /root.crl (RFC 5280 CRLs)
// and /lab-ca.cer (the lab CA certificate, DER, for a client to import).
const PKIPath = "/wufault/pki"

// pkiHostName is the lab name the certificates' revocation URLs use; the
// lab zone resolves it (and the proxy routes it) to the embedded upstream.
const pkiHostName = "pki.lab"

// maxOCSPRequest bounds an OCSP request body.
const maxOCSPRequest = 16 << 10

// ServeHTTP answers the requests under PKIPath (the prefix already
// stripped or not). It never fails the world: a bad request gets an OCSP
// "malformed" answer or a 4xx.
func (is *issuer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, PKIPath)
	switch {
	case p == "/ocsp" && r.Method == http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, maxOCSPRequest+1))
		if err != nil || len(body) > maxOCSPRequest {
			writeOCSP(w, ocsp.MalformedRequestErrorResponse)
			return
		}
		writeOCSP(w, is.answerOCSP(body))
	case strings.HasPrefix(p, "/ocsp/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		// RFC 6960 A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}.
		enc := strings.TrimPrefix(r.URL.EscapedPath(), PKIPath+"/ocsp/")
		enc = strings.TrimPrefix(enc, "/ocsp/")
		s, err := url.PathUnescape(enc)
		if err != nil {
			writeOCSP(w, ocsp.MalformedRequestErrorResponse)
			return
		}
		der, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(der) > maxOCSPRequest {
			writeOCSP(w, ocsp.MalformedRequestErrorResponse)
			return
		}
		writeOCSP(w, is.answerOCSP(der))
	case (p == "/intermediate.crl" || p == "/root.crl") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		der, err := is.crl(strings.TrimPrefix(p, "/"))
		if err != nil {
			http.Error(w, "crl unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		_, _ = w.Write(der)
	case p == "/lab-ca.cer" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		w.Header().Set("Content-Type", "application/pkix-cert")
		w.Header().Set("Content-Disposition", `attachment; filename="lab-ca.cer"`)
		_, _ = w.Write(is.ca.cert.Raw)
	default:
		http.NotFound(w, r)
	}
}

func writeOCSP(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	_, _ = w.Write(b)
}

// answerOCSP answers one DER OCSP request: the intermediate answers for
// the leaves it issued (good, revoked, or unknown once forgotten), the lab
// CA for the intermediate; anything else is unauthorized.
func (is *issuer) answerOCSP(der []byte) []byte {
	req, err := ocsp.ParseRequest(der)
	if err != nil || req.SerialNumber == nil {
		return ocsp.MalformedRequestErrorResponse
	}
	hash := req.HashAlgorithm
	if !hash.Available() {
		hash = crypto.SHA1
	}
	now := is.now()
	var out []byte
	switch {
	case keyHashMatches(is.inter, req):
		cs, ok := is.status(req.SerialNumber)
		if !ok {
			cs = certStatus{status: ocsp.Unknown}
		}
		out, err = is.ocspAnswer(is.inter, is.interKey, req.SerialNumber, cs, hash, now)
	case keyHashMatches(is.ca.cert, req):
		cs := certStatus{status: ocsp.Unknown}
		if req.SerialNumber.Cmp(is.inter.SerialNumber) == 0 {
			cs.status = ocsp.Good
		}
		out, err = is.ocspAnswer(is.ca.cert, is.ca.key, req.SerialNumber, cs, hash, now)
	default:
		return ocsp.UnauthorizedErrorResponse
	}
	if err != nil {
		return ocsp.InternalErrorErrorResponse
	}
	return out
}

// keyHashMatches reports whether an OCSP request names ca as the issuer
// (by the hash of its public key, RFC 6960 4.1.1).
func keyHashMatches(ca *x509.Certificate, req *ocsp.Request) bool {
	if !req.HashAlgorithm.Available() {
		return false
	}
	var spki struct {
		Algorithm asn1.RawValue
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(ca.RawSubjectPublicKeyInfo, &spki); err != nil {
		return false
	}
	h := req.HashAlgorithm.New()
	h.Write(spki.PublicKey.RightAlign())
	return bytes.Equal(h.Sum(nil), req.IssuerKeyHash)
}
