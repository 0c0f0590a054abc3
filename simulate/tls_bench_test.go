package simulate

import (
	"crypto/tls"
	"fmt"
	"testing"
)

func benchIssuer(b *testing.B) *issuer {
	b.Helper()
	domains, _ := CADomains()
	ca, err := NewCA(domains)
	if err != nil {
		b.Fatal(err)
	}
	is, err := newIssuer(ca, "http://pki.lab:8530"+PKIPath, nil)
	if err != nil {
		b.Fatal(err)
	}
	is.maxLeaves = 1 << 30 // measure minting, not eviction
	return is
}

// BenchmarkLeafNewHost mints the good leaf of a host never seen before:
// one ECDSA P-256 signature for the certificate, one for the stapled OCSP
// answer (the leaf key is shared).
func BenchmarkLeafNewHost(b *testing.B) {
	is := benchIssuer(b)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n++
		if _, err := is.leaf(fmt.Sprintf("h%d.update.microsoft.com", n), ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLeafNewHostProfile mints a faulty leaf per new host.
func BenchmarkLeafNewHostProfile(b *testing.B) {
	for _, p := range []string{"expired", "self-signed", "untrusted-ca", "sha1", "rsa1024"} {
		b.Run(p, func(b *testing.B) {
			is := benchIssuer(b)
			if _, err := is.rsa1024(); err != nil { // generated once per world
				b.Fatal(err)
			}
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				n++
				if _, err := is.leaf(fmt.Sprintf("h%d.update.microsoft.com", n), p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLeafCached serves a leaf from the cache.
func BenchmarkLeafCached(b *testing.B) {
	is := benchIssuer(b)
	if _, err := is.leaf("fe3.delivery.mp.microsoft.com", ""); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := is.leaf("fe3.delivery.mp.microsoft.com", ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkHandshake is a full TLS 1.3 handshake with the world's TLS
// endpoint over loopback (cached leaf), client and server in this process.
func BenchmarkHandshake(b *testing.B) {
	_, addr, roots := tlsEndpoint(b, Options{}, nil)
	cfg := &tls.Config{RootCAs: roots, ServerName: "wsus.lab"}
	b.ReportAllocs()
	for b.Loop() {
		c, err := tls.Dial("tcp", addr, cfg)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
