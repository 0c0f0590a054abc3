package simulate

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1" // Windows names certificates by their SHA-1 thumbprint
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Files of the lab CA in the state directory.
const (
	// CAKeyFile holds the CA's private key and its certificate (PEM, mode
	// 0600). It is the CA: everything else is derived from it.
	CAKeyFile = "lab-ca-key.pem"
	// CACertFile is the CA certificate alone (PEM, mode 0644), for
	// distribution; it is rewritten from CAKeyFile whenever missing.
	CACertFile = "lab-ca.pem"

	caValidity = 5 * 365 * 24 * time.Hour
	// clockSlack back-dates every certificate, so a client whose clock is
	// a little behind still accepts it.
	clockSlack = time.Hour
)

// ErrNotPermitted is returned when a certificate is asked for a name that
// the lab CA's name constraints do not cover: a client would reject it.
var ErrNotPermitted = errors.New("name outside the lab CA's name constraints")

// CA is the lab certificate authority: an ECDSA P-256 root whose name
// constraints (critical) permit only the Windows Update domains, the lab
// names and the names of the configuration, exclude every IP address, and
// whose extended key usage limits it to TLS server certificates. Even
// trusted on a lab client, it can vouch for nothing else.
type CA struct {
	cert *x509.Certificate
	key  crypto.Signer
	dir  string // state directory; "" for a CA held only in memory
}

// CADomains returns the DNS domains the lab CA permits: those of LabHosts
// and of extra, host patterns as in a fault's match ("*.corp.example" or
// "wsus.corp.example"). A permitted domain covers itself and every name
// under it (RFC 5280 4.2.1.10). A pattern with a wildcard anywhere but a
// leading "*." cannot be expressed as a constraint and is an error.
func CADomains(extra ...string) ([]string, error) {
	var out []string
	var errs []error
	for _, p := range slices.Concat(LabHosts, extra) {
		d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(p)), ".")
		d = strings.TrimPrefix(d, "*.")
		if d == "" || strings.ContainsAny(d, "*?[]/: ") || net.ParseIP(d) != nil {
			errs = append(errs, fmt.Errorf("host pattern %q cannot be a lab CA name constraint (want a name or *.name)", p))
			continue
		}
		out = append(out, d)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	// Drop domains another one covers: the constraint stays minimal.
	kept := out[:0]
	for _, d := range out {
		if !slices.ContainsFunc(out, func(o string) bool { return o != d && strings.HasSuffix(d, "."+o) }) {
			kept = append(kept, d)
		}
	}
	return kept, nil
}

// NewCA creates a lab CA held only in memory (tests, a world without a
// state directory), permitting domains (see CADomains).
func NewCA(domains []string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("lab ca: generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{
			CommonName:         "wufault lab CA " + fmt.Sprintf("%016x", serial)[:8],
			Organization:       []string{"wufault lab"},
			OrganizationalUnit: []string{"for testing Windows Update faults only"},
		},
		NotBefore:                   now.Add(-clockSlack),
		NotAfter:                    now.Add(caValidity),
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:                 []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid:       true,
		IsCA:                        true,
		MaxPathLen:                  1, // root → intermediate → leaf
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         slices.Clone(domains),
		ExcludedIPRanges: []*net.IPNet{
			{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
			{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)},
		},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("lab ca: create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("lab ca: parse certificate: %w", err)
	}
	return &CA{cert: cert, key: key}, nil
}

// OpenCA loads the lab CA from dir, creating it (and dir, mode 0700) on
// first use with the given domains. created reports whether it was made
// now. Two processes racing to create it end up with the same CA. An
// existing CA keeps its constraints: Missing lists the domains it does not
// permit, which a new CA would (see RemoveCA).
func OpenCA(dir string, domains []string) (ca *CA, created bool, err error) {
	ca, err = LoadCA(dir)
	if err == nil {
		return ca, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, false, fmt.Errorf("lab ca: create state directory: %w", err)
	}
	ca, err = NewCA(domains)
	if err != nil {
		return nil, false, err
	}
	ca.dir = dir
	if err := ca.store(); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			ca, err = LoadCA(dir)
			return ca, false, err
		}
		return nil, false, err
	}
	return ca, true, nil
}

// store writes the key file atomically and exclusively (a temporary file
// linked into place, so a reader never sees half a key and a concurrent
// creator gets fs.ErrExist), then the public certificate file.
func (c *CA) store() error {
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.key)
	if err != nil {
		return fmt.Errorf("lab ca: encode key: %w", err)
	}
	body := slices.Concat(
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		c.PEM(),
	)
	tmp, err := os.CreateTemp(c.dir, ".lab-ca-key-*")
	if err != nil {
		return fmt.Errorf("lab ca: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return fmt.Errorf("lab ca: %w", err)
	}
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return fmt.Errorf("lab ca: write key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("lab ca: write key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("lab ca: write key: %w", err)
	}
	if err := os.Link(tmp.Name(), c.KeyPath()); err != nil {
		return fmt.Errorf("lab ca: %w", err)
	}
	return c.writeCertFile()
}

// writeCertFile (re)writes the public certificate beside the key.
func (c *CA) writeCertFile() error {
	if err := os.WriteFile(filepath.Join(c.dir, CACertFile), c.PEM(), 0o644); err != nil {
		return fmt.Errorf("lab ca: write certificate: %w", err)
	}
	return nil
}

// LoadCA loads the lab CA from dir. It fails with an error wrapping
// fs.ErrNotExist when there is none, and refuses a key file that group or
// others can read (as ssh does).
func LoadCA(dir string) (*CA, error) {
	path := filepath.Join(dir, CAKeyFile)
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("lab ca: %w", err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("lab ca: key file %s has mode %#o: other users can read it; run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("lab ca: %w", err)
	}
	ca := &CA{dir: dir}
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		switch blk.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("lab ca: %s: parse key: %w", path, err)
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("lab ca: %s: key of type %T cannot sign", path, k)
			}
			ca.key = s
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, fmt.Errorf("lab ca: %s: parse certificate: %w", path, err)
			}
			ca.cert = c
		}
	}
	if ca.key == nil || ca.cert == nil {
		return nil, fmt.Errorf("lab ca: %s: want a PRIVATE KEY and a CERTIFICATE block", path)
	}
	if !ca.cert.IsCA || !publicKeysEqual(ca.cert.PublicKey, ca.key.Public()) {
		return nil, fmt.Errorf("lab ca: %s: the certificate is not a CA certificate for the key", path)
	}
	if _, err := os.Stat(filepath.Join(dir, CACertFile)); errors.Is(err, fs.ErrNotExist) {
		if err := ca.writeCertFile(); err != nil {
			return nil, err
		}
	}
	return ca, nil
}

// RemoveCA deletes the lab CA of dir (both files), so that the next
// OpenCA creates a new one. Clients trusting the old one must import the
// new one.
func RemoveCA(dir string) error {
	var errs []error
	for _, f := range []string{CAKeyFile, CACertFile} {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("lab ca: %w", err))
		}
	}
	return errors.Join(errs...)
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// Certificate returns the CA certificate.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// PEM returns the CA certificate, PEM-encoded.
func (c *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.cert.Raw})
}

// DER returns the CA certificate, DER-encoded (a .cer file for certutil).
func (c *CA) DER() []byte { return slices.Clone(c.cert.Raw) }

// Thumbprint is the certificate's SHA-1 hash in upper-case hex, as
// Windows shows it and as certutil -delstore accepts it.
func (c *CA) Thumbprint() string { return fmt.Sprintf("%X", sha1.Sum(c.cert.Raw)) }

// KeyPath is the key file ("" for a CA in memory).
func (c *CA) KeyPath() string {
	if c.dir == "" {
		return ""
	}
	return filepath.Join(c.dir, CAKeyFile)
}

// Domains returns the DNS domains the CA permits.
func (c *CA) Domains() []string { return slices.Clone(c.cert.PermittedDNSDomains) }

// Permits reports whether the CA's name constraints cover host (any case,
// trailing dot allowed, no port). IP addresses are never covered.
func (c *CA) Permits(host string) bool {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "" || net.ParseIP(h) != nil {
		return false
	}
	for _, d := range c.cert.PermittedDNSDomains {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// Missing returns the domains of want that the CA does not permit.
func (c *CA) Missing(want []string) []string {
	var out []string
	for _, d := range want {
		if !c.Permits(d) {
			out = append(out, d)
		}
	}
	return out
}

// randomSerial returns a positive random 127-bit serial number.
func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}
