package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// tlsSettings are the client's Schannel settings.
type tlsSettings struct {
	roots           *x509.CertPool
	minVersion      uint16
	maxVersion      uint16
	cipherSuites    []uint16 // nil: Go's defaults
	now             func() time.Time
	checkRevocation bool
	// fetch retrieves revocation data (a CRL) by URL, as CryptoAPI's URL
	// retrieval does; nil disables fetching (the check is then offline).
	fetch   func(ctx context.Context, url string) ([]byte, error)
	timeout time.Duration
	log     *slog.Logger
}

// schannelCurves are the elliptic curves Schannel enables by default, in
// its priority order [L-CURVES].
var schannelCurves = []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}

// config builds the crypto/tls client configuration: the trust store,
// versions and suites, the skewed clock for validity checks, revocation
// checking, and a client certificate callback that fails as WinHTTP does
// when the server asks for one it cannot give (12044).
func (s *tlsSettings) config() *tls.Config {
	c := &tls.Config{
		RootCAs:      s.roots,
		MinVersion:   s.minVersion,
		MaxVersion:   s.maxVersion,
		CipherSuites: s.cipherSuites,
		// Schannel's key exchange groups by default since Windows 10 1607,
		// in its order [L-CURVES]; no post-quantum hybrid, which Go would
		// otherwise offer first.
		CurvePreferences: schannelCurves,
		Time:             s.now,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return nil, ErrClientCertNeeded
		},
	}
	if s.checkRevocation {
		c.VerifyConnection = s.verifyRevocation
	}
	return c
}

// verifyRevocation checks the leaf against a stapled OCSP answer, and the
// certificates of the chain against the CRLs named in their CRL
// distribution points. A certificate without
// distribution points passes (the lab CA need not publish any); one whose
// CRL cannot be fetched fails as offline (CRYPT_E_REVOCATION_OFFLINE,
// 0x80092013 under 0x80072F8F [GYO]); a listed serial fails as revoked.
func (s *tlsSettings) verifyRevocation(cs tls.ConnectionState) error {
	if len(cs.VerifiedChains) == 0 {
		return nil
	}
	chain := cs.VerifiedChains[0]
	if len(cs.OCSPResponse) > 0 && len(chain) > 1 {
		// A stapled answer decides for the leaf when it parses.
		leaf := chain[0]
		if r, err := ocsp.ParseResponseForCert(cs.OCSPResponse, leaf, chain[1]); err == nil {
			switch r.Status {
			case ocsp.Revoked:
				return &RevocationError{Serial: leaf.SerialNumber.Text(16), Err: errors.New("stapled OCSP answer: revoked")}
			case ocsp.Good:
				chain = chain[1:]
			}
		} else {
			s.log.Debug("tls: unusable OCSP staple", "err", err)
		}
	}
	for i, cert := range chain[:len(chain)-1] {
		issuer := chain[i+1]
		for _, dp := range cert.CRLDistributionPoints {
			if !strings.HasPrefix(strings.ToLower(dp), "http://") {
				continue
			}
			if err := s.checkCRL(cert, issuer, dp); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *tlsSettings) checkCRL(cert, issuer *x509.Certificate, url string) error {
	serial := cert.SerialNumber.Text(16)
	if s.fetch == nil {
		return &RevocationError{Serial: serial, Offline: true, Err: errors.New("no way to fetch " + url)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	der, err := s.fetch(ctx, url)
	if err != nil {
		return &RevocationError{Serial: serial, Offline: true, Err: err}
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return &RevocationError{Serial: serial, Offline: true, Err: fmt.Errorf("parse crl %s: %w", url, err)}
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return &RevocationError{Serial: serial, Offline: true, Err: fmt.Errorf("crl %s signature: %w", url, err)}
	}
	if !crl.NextUpdate.IsZero() && s.now().After(crl.NextUpdate) {
		return &RevocationError{Serial: serial, Offline: true, Err: fmt.Errorf("crl %s expired at %s", url, crl.NextUpdate)}
	}
	for _, e := range crl.RevokedCertificateEntries {
		if e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
			return &RevocationError{Serial: serial, Err: errors.New("listed in " + url)}
		}
	}
	return nil
}

// crlFetcher fetches CRLs over plain HTTP, directly, through the client's
// own resolver.
func crlFetcher(res *resolver, timeout time.Duration) func(ctx context.Context, url string) ([]byte, error) {
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy: nil,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				host, port, err := net.SplitHostPort(addr)
				if err != nil {
					return nil, err
				}
				addrs, err := res.lookup(ctx, host)
				if err != nil {
					return nil, err
				}
				d := &net.Dialer{Timeout: timeout}
				return dialAddrs(ctx, d, addrs, port)
			},
			DisableKeepAlives: true,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return func(ctx context.Context, url string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("crl %s: status %d", url, resp.StatusCode)
		}
		return io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	}
}
