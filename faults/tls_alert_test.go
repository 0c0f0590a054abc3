package faults

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func TestTLSAlert(t *testing.T) {
	for name := range TLSAlerts {
		t.Run(name, func(t *testing.T) {
			server, client := tcpPair(t)
			done := make(chan error, 1)
			go func() {
				c := tls.Client(client, &tls.Config{ServerName: "wsus.lab"})
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				done <- c.Handshake()
			}()
			// The server has read the ClientHello when its hook runs.
			hdr := make([]byte, 5)
			if _, err := io.ReadFull(server, hdr); err != nil {
				t.Fatal(err)
			}
			if _, err := io.CopyN(io.Discard, server, int64(hdr[3])<<8|int64(hdr[4])); err != nil {
				t.Fatal(err)
			}
			f := &TLSAlert{Alert: name}
			if err := f.Validate(); err != nil {
				t.Fatal(err)
			}
			cfg, err := f.ConfigForClient(&tls.ClientHelloInfo{Conn: server}, newFakeEnv())
			if cfg != nil || !errors.Is(err, ErrInjected) {
				t.Fatalf("ConfigForClient = %v, %v; want nil, ErrInjected", cfg, err)
			}
			err = <-done
			var oe *net.OpError
			switch {
			case name == "close_notify":
				if !errors.Is(err, io.EOF) {
					t.Errorf("client: %v, want EOF", err)
				}
			case !errors.As(err, &oe) || oe.Op != "remote error" || oe.Err.Error() != goAlertText[name]:
				t.Errorf("client: %v, want remote error: %s", err, goAlertText[name])
			}
		})
	}
}

func TestTLSAlertRecord(t *testing.T) {
	for name, want := range map[string][]byte{
		"handshake_failure": {21, 3, 3, 0, 2, 2, 40},
		"protocol_version":  {21, 3, 3, 0, 2, 2, 70},
		"close_notify":      {21, 3, 3, 0, 2, 1, 0},
		"user_canceled":     {21, 3, 3, 0, 2, 2, 90},
	} {
		if got := (&TLSAlert{Alert: name}).AlertRecord(); !bytes.Equal(got, want) {
			t.Errorf("%s: record %v, want %v", name, got, want)
		}
	}
	if err := (&TLSAlert{Alert: "nope"}).Validate(); err == nil {
		t.Error("unknown alert accepted")
	}
}
