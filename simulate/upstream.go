package simulate

import "errors"

// startUpstreamHTTP is replaced by the upstream service's issue.
func (w *World) startUpstreamHTTP(addr string) (service, error) {
	return nil, errors.New("upstream service not built yet")
}

// startUpstreamHTTPS lives in tls_upstream.go (the TLS side of the upstream).
// The HTTP port must serve w.pkiHandler() under PKIPath+"/": the lab CA's
// certificates name pki.lab on this port for OCSP and CRLs (tls.go).
