package faults

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
)

// A client whose header timeout is shorter than the trickle gives up
// before the status line is complete; the bytes that did arrive came one
// by one, an interval apart; its close ends the handler at once.
func TestHTTPSlowHeadersTimesOutTheClient(t *testing.T) {
	done := make(chan struct{})
	f := &HTTPSlowHeaders{Interval: profile.Duration(150 * time.Millisecond)}
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		f.ServeHTTP(w, r, notCalled)
	}))
	t.Cleanup(s.Close)

	c := &http.Client{Transport: &http.Transport{ResponseHeaderTimeout: 400 * time.Millisecond, DisableKeepAlives: true}}
	start := time.Now()
	_, err := c.Get(s.URL + "/ClientWebService/client.asmx")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("client error %v, want a header timeout", err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("timed out after %s, before its own timeout", d)
	}
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the handler went on trickling after the client closed")
	}

	// On a raw connection: the head arrives a byte per interval.
	conn, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	br := bufio.NewReader(conn)
	var got strings.Builder
	var gaps []time.Duration
	last := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for range 4 {
		b, err := br.ReadByte()
		if err != nil {
			t.Fatalf("after %q: %v", got.String(), err)
		}
		got.WriteByte(b)
		gaps = append(gaps, time.Since(last))
		last = time.Now()
	}
	if got.String() != "HTTP" {
		t.Errorf("head starts %q", got.String())
	}
	for _, g := range gaps[1:] {
		if g < 100*time.Millisecond {
			t.Errorf("bytes %v apart, want about 150ms each", gaps)
			break
		}
	}
	if br.Buffered() != 0 {
		t.Errorf("%d more bytes arrived at once", br.Buffered())
	}
}

// A patient client gets the whole head, the status asked for and an empty
// body.
func TestHTTPSlowHeadersPatientClient(t *testing.T) {
	s := hookServer(t, &HTTPSlowHeaders{Interval: profile.Duration(time.Millisecond), Status: 503}, notCalled)
	req, _ := http.NewRequest("GET", s.URL, nil)
	resp, body, err := get(t, req)
	if err != nil || resp.StatusCode != 503 || len(body) != 0 {
		t.Fatalf("%v %v %q", resp, err, body)
	}
}

func TestHTTPSlowHeadersValidate(t *testing.T) {
	for _, f := range []HTTPSlowHeaders{{Interval: -1}, {Interval: profile.Duration(2 * time.Minute)}, {Status: 42}} {
		if err := f.Validate(); err == nil {
			t.Errorf("%+v accepted", f)
		}
	}
	if err := (&HTTPSlowHeaders{}).Validate(); err != nil {
		t.Error(err)
	}
}
