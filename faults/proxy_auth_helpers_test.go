package faults

import (
	"crypto/md5"
	"encoding/asn1"
	"encoding/hex"
	"net/url"
	"testing"
)

type asn1OID = asn1.ObjectIdentifier

type neturl = url.URL

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func md5sum(b []byte) [16]byte { return md5.Sum(b) }

func unhexT(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}
