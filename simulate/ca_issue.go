package simulate

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"
)

// Lifetimes and limits of the certificates the world issues.
const (
	leafValidity  = 90 * 24 * time.Hour
	interValidity = 2 * 365 * 24 * time.Hour
	// leafRefresh is how long a minted leaf (and its stapled OCSP answer)
	// is served before a fresh one replaces it.
	leafRefresh  = 24 * time.Hour
	ocspValidity = 7 * 24 * time.Hour
	// maxLeaves bounds the leaf cache: a client sending many names (SNI)
	// cannot grow it without limit.
	maxLeaves = 4096
	// maxStatuses bounds the serials the OCSP responder remembers; older
	// ones are answered "unknown".
	maxStatuses = 1 << 16
	// maxRevoked bounds the CRL of the intermediate.
	maxRevoked = 4096

	// WrongHostName is the name a tls.cert wrong-host certificate is
	// issued for: inside the lab CA's constraints, so the only error is
	// the name mismatch.
	WrongHostName = "wrong-host.lab"
)

// issuer is the certification authority under which the world's good
// leaves are issued and the untrusted one: an intermediate under the lab
// CA, a leaf key shared by the leaves (minting then costs one signature),
// the second CA that nobody trusts, and the OCSP/CRL state. It is safe for
// concurrent use.
type issuer struct {
	ca   *CA
	base string // URL prefix of the OCSP responder and CRLs; "": none
	now  func() time.Time

	inter        *x509.Certificate
	interKey     *ecdsa.PrivateKey
	leafKey      *ecdsa.PrivateKey
	untrusted    *x509.Certificate
	untrustedKey *ecdsa.PrivateKey
	rsa1024      func() (*rsa.PrivateKey, error)

	maxLeaves int // cache bound (maxLeaves)

	mu       sync.Mutex
	leaves   map[leafID]*leafSlot
	statuses map[string]certStatus // by serial (hex), leaves of inter
	revoked  []x509.RevocationListEntry
	crls     map[string]*crlCache // by file name
}

type leafID struct{ host, profile string }

// leafSlot is one cache entry: minted once, even when many handshakes ask
// for it at the same moment.
type leafSlot struct {
	once    sync.Once
	cert    *tls.Certificate
	err     error
	expires time.Time
}

type certStatus struct {
	status    int // ocsp.Good, ocsp.Revoked
	revokedAt time.Time
}

type crlCache struct {
	der     []byte
	made    time.Time
	revoked int // len(revoked) when made
	number  int64
}

// newIssuer creates the intermediate, the leaf key and the untrusted CA.
// base is the URL prefix written into certificates for revocation checks
// ("http://pki.lab:8530/wufault/pki"); "" leaves them out.
func newIssuer(ca *CA, base string, now func() time.Time) (*issuer, error) {
	if now == nil {
		now = time.Now
	}
	is := &issuer{ca: ca, base: base, now: now, maxLeaves: maxLeaves, leaves: map[leafID]*leafSlot{}, statuses: map[string]certStatus{}, crls: map[string]*crlCache{}}
	var err error
	keys := make([]*ecdsa.PrivateKey, 3)
	for n := range keys {
		if keys[n], err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			return nil, fmt.Errorf("issuer: generate key: %w", err)
		}
	}
	is.interKey, is.leafKey, is.untrustedKey = keys[0], keys[1], keys[2]
	t := now()
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	inter := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "wufault lab intermediate CA", Organization: []string{"wufault lab"}},
		NotBefore:             t.Add(-clockSlack),
		NotAfter:              minTime(t.Add(interValidity), ca.cert.NotAfter),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	if base != "" {
		inter.CRLDistributionPoints = []string{base + "/root.crl"}
	}
	if is.inter, err = createCert(inter, ca.cert, &is.interKey.PublicKey, ca.key); err != nil {
		return nil, fmt.Errorf("issuer: intermediate: %w", err)
	}
	if serial, err = randomSerial(); err != nil {
		return nil, err
	}
	untrusted := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "wufault untrusted CA", Organization: []string{"nobody trusts this"}},
		NotBefore:             t.Add(-clockSlack),
		NotAfter:              t.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if is.untrusted, err = createCert(untrusted, untrusted, &is.untrustedKey.PublicKey, is.untrustedKey); err != nil {
		return nil, fmt.Errorf("issuer: untrusted ca: %w", err)
	}
	is.rsa1024 = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 1024) })
	return is, nil
}

func createCert(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// leaf returns the certificate for host shaped by a tls.cert profile (""
// for a good one), minting it on first use and caching it for
// leafRefresh. A certificate under the lab CA for a name its constraints
// do not cover fails with ErrNotPermitted.
func (is *issuer) leaf(host, profile string) (*tls.Certificate, error) {
	id := leafID{host: host, profile: profile}
	now := is.now()
	is.mu.Lock()
	s := is.leaves[id]
	if s == nil || (!s.expires.IsZero() && now.After(s.expires)) {
		if s == nil && len(is.leaves) >= is.maxLeaves {
			for k := range is.leaves { // evict one, any
				delete(is.leaves, k)
				break
			}
		}
		s = &leafSlot{expires: now.Add(leafRefresh)}
		is.leaves[id] = s
	}
	is.mu.Unlock()
	s.once.Do(func() { s.cert, s.err = is.mint(host, profile) })
	if s.err != nil {
		is.mu.Lock()
		if is.leaves[id] == s {
			delete(is.leaves, id) // a failure is not cached
		}
		is.mu.Unlock()
	}
	return s.cert, s.err
}

// mint issues one certificate. Every leaf of the lab CA is signed by the
// intermediate and carries the OCSP and CRL URLs (when the world serves
// them) and a stapled OCSP answer; none carries a caIssuers URL, so a
// client cannot fetch a missing intermediate (Windows would).
func (is *issuer) mint(host, profile string) (*tls.Certificate, error) {
	now := is.now()
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	t := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host, Organization: []string{"wufault lab"}},
		DNSNames:     []string{host},
		NotBefore:    now.Add(-clockSlack),
		NotAfter:     minTime(now.Add(leafValidity), is.inter.NotAfter),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if is.base != "" {
		t.OCSPServer = []string{is.base + "/ocsp"}
		t.CRLDistributionPoints = []string{is.base + "/intermediate.crl"}
	}
	parent, signer := is.inter, crypto.Signer(is.interKey)
	var key crypto.Signer = is.leafKey
	chain := [][]byte{nil, is.inter.Raw}
	status := ocsp.Good
	const day = 24 * time.Hour
	switch profile {
	case "":
	case "expired":
		t.NotBefore, t.NotAfter = now.Add(-60*day), now.Add(-30*day)
	case "not-yet-valid":
		t.NotBefore, t.NotAfter = now.Add(30*day), now.Add(30*day+leafValidity)
	case "wrong-host":
		t.Subject.CommonName, t.DNSNames = WrongHostName, []string{WrongHostName}
	case "self-signed":
		// As `openssl req -x509` or New-SelfSignedCertificate make them:
		// it may sign itself, so verifiers report "self-signed".
		t.KeyUsage |= x509.KeyUsageCertSign
		t.OCSPServer, t.CRLDistributionPoints = nil, nil
		parent, signer, chain = t, is.leafKey, [][]byte{nil}
	case "untrusted-ca":
		t.OCSPServer, t.CRLDistributionPoints = nil, nil
		parent, signer, chain = is.untrusted, is.untrustedKey, [][]byte{nil, is.untrusted.Raw}
	case "revoked":
		status = ocsp.Revoked
	case "missing-intermediate":
		chain = [][]byte{nil}
	case "sha1":
		t.SignatureAlgorithm = x509.ECDSAWithSHA1
	case "rsa1024":
		rk, err := is.rsa1024()
		if err != nil {
			return nil, fmt.Errorf("issuer: rsa-1024 key: %w", err)
		}
		key = rk
		t.KeyUsage |= x509.KeyUsageKeyEncipherment
	case "no-serverauth":
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		return nil, fmt.Errorf("issuer: unknown certificate profile %q", profile)
	}
	if parent == is.inter && !is.ca.Permits(t.DNSNames[0]) {
		return nil, fmt.Errorf("issuer: %q: %w (permitted: %v)", t.DNSNames[0], ErrNotPermitted, is.ca.Domains())
	}
	leaf, err := createCert(t, parent, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("issuer: %s certificate for %q: %w", orGood(profile), host, err)
	}
	chain[0] = leaf.Raw
	tc := &tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}
	if parent == is.inter {
		if tc.OCSPStaple, err = is.record(leaf, status, now); err != nil {
			return nil, err
		}
	}
	return tc, nil
}

func orGood(profile string) string {
	if profile == "" {
		return "good"
	}
	return profile
}

// record remembers a leaf of the intermediate for the OCSP responder and
// the CRL, and returns the OCSP answer to staple.
func (is *issuer) record(leaf *x509.Certificate, status int, now time.Time) ([]byte, error) {
	cs := certStatus{status: status}
	if status == ocsp.Revoked {
		cs.revokedAt = now.Add(-clockSlack).Truncate(time.Second)
	}
	is.mu.Lock()
	if len(is.statuses) >= maxStatuses {
		for k := range is.statuses {
			delete(is.statuses, k)
			break
		}
	}
	is.statuses[leaf.SerialNumber.Text(16)] = cs
	if status == ocsp.Revoked {
		if len(is.revoked) >= maxRevoked {
			is.revoked = is.revoked[1:]
		}
		is.revoked = append(is.revoked, x509.RevocationListEntry{SerialNumber: leaf.SerialNumber, RevocationTime: cs.revokedAt})
	}
	is.mu.Unlock()
	staple, err := is.ocspAnswer(is.inter, is.interKey, leaf.SerialNumber, cs, crypto.SHA1, now)
	if err != nil {
		return nil, fmt.Errorf("issuer: staple: %w", err)
	}
	return staple, nil
}

// status returns what the responder knows about a serial of the
// intermediate.
func (is *issuer) status(serial *big.Int) (certStatus, bool) {
	is.mu.Lock()
	defer is.mu.Unlock()
	cs, ok := is.statuses[serial.Text(16)]
	return cs, ok
}

// ocspAnswer signs an OCSP response for serial, issued by ca (the
// responder is the issuing CA itself).
func (is *issuer) ocspAnswer(ca *x509.Certificate, key crypto.Signer, serial *big.Int, cs certStatus, hash crypto.Hash, now time.Time) ([]byte, error) {
	tmpl := ocsp.Response{
		Status:       cs.status,
		SerialNumber: serial,
		ThisUpdate:   now.Add(-clockSlack).Truncate(time.Second),
		NextUpdate:   now.Add(ocspValidity).Truncate(time.Second),
		RevokedAt:    cs.revokedAt,
		IssuerHash:   hash,
	}
	return ocsp.CreateResponse(ca, ca, tmpl, key)
}

// crl returns a current CRL: "intermediate.crl" (the revoked leaves) or
// "root.crl" (issued by the lab CA; lists nothing). A CRL is reissued
// when a leaf was revoked since, or after an hour.
func (is *issuer) crl(name string) ([]byte, error) {
	var ca *x509.Certificate
	var key crypto.Signer
	switch name {
	case "intermediate.crl":
		ca, key = is.inter, is.interKey
	case "root.crl":
		ca, key = is.ca.cert, is.ca.key
	default:
		return nil, errors.New("no such crl")
	}
	now := is.now()
	is.mu.Lock()
	defer is.mu.Unlock()
	var entries []x509.RevocationListEntry
	if ca == is.inter {
		entries = is.revoked
	}
	c := is.crls[name]
	if c != nil && c.revoked == len(entries) && now.Sub(c.made) < time.Hour {
		return c.der, nil
	}
	number := now.Unix()
	if c != nil && number <= c.number {
		number = c.number + 1
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number:                    big.NewInt(number),
		ThisUpdate:                now.Add(-clockSlack),
		NextUpdate:                now.Add(ocspValidity),
		RevokedCertificateEntries: entries,
	}, ca, key)
	if err != nil {
		return nil, fmt.Errorf("issuer: %s: %w", name, err)
	}
	is.crls[name] = &crlCache{der: der, made: now, revoked: len(entries), number: number}
	return der, nil
}
