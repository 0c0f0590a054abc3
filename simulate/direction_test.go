package simulate

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// uploadOrigin counts the body bytes each upload reached it with (what
// it read until the end or an error) and answers how many it got.
type uploadOrigin struct {
	*httptest.Server
	mu    sync.Mutex
	got   []int64
	start []time.Time // when each upload's handler began
}

func newUploadOrigin(t *testing.T) *uploadOrigin {
	o := &uploadOrigin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		begin := time.Now()
		n, _ := io.Copy(io.Discard, r.Body)
		o.mu.Lock()
		o.got = append(o.got, n)
		o.start = append(o.start, begin)
		o.mu.Unlock()
		fmt.Fprintf(rw, "got %d", n)
	}))
	t.Cleanup(o.Close)
	return o
}

// received waits for the first upload to end at the origin and returns
// its byte count.
func (o *uploadOrigin) received(t *testing.T) int64 {
	t.Helper()
	var n int64
	waitFor(t, func() bool {
		o.mu.Lock()
		defer o.mu.Unlock()
		if len(o.got) == 0 {
			return false
		}
		n = o.got[0]
		return true
	})
	return n
}

// curl's exit code for a failure while sending (man curl, EXIT CODES).
const curlSendError = 55

// A reset with direction up after N bytes of an upload: curl, still
// sending, fails with a send error, and the origin gets fewer bytes than
// curl sent. The same rule down lets the upload through.
func TestCurlUploadResetUp(t *testing.T) {
	w := proxyWorld(t, Options{MaxStall: 10 * time.Second})
	o := newUploadOrigin(t)
	const size = 32 << 20 // larger than the loopback socket buffers: curl is still sending at the reset
	file := filepath.Join(t.TempDir(), "upload.bin")
	if err := os.WriteFile(file, bytes.Repeat([]byte("wufault "), size/8), 0o600); err != nil {
		t.Fatal(err)
	}
	reset := &faults.TCPReset{Directed: faults.Directed{Direction: faults.Up}}
	reset.At, reset.AfterBytes = profile.PhaseRequest, 64<<10
	m := faults.Match{Path: "/upload", Method: http.MethodPost}

	activate(t, w, spec("tcp.reset", reset, m, faults.When{}))
	since := w.journal.lastSeq()
	code, out, errs := curl(t, w, "-H", "Expect:", "--data-binary", "@"+file, "-o", "/dev/null", "-w", "%{size_upload}", o.URL+"/upload")
	// curl notices the reset on its next send (55) or, when it polls the
	// socket for an early answer between sends, on a receive (56): either
	// way before it sent the whole body.
	var sent int64 = -1
	fmt.Sscan(string(out), &sent)
	if code != curlSendError && code != curlRecvError || sent < 0 || sent >= size {
		t.Fatalf("curl exit %d (%s), %d bytes uploaded; want %d or %d before the %d bytes were sent", code, strings.TrimSpace(errs), sent, curlSendError, curlRecvError, size)
	}
	if got := o.received(t); got >= size || got < 64<<10-1 {
		t.Errorf("the origin received %d bytes; want at most what passed the reset, fewer than the %d sent", got, size)
	} else {
		t.Logf("curl: %s after uploading %d bytes; the origin received %d of %d bytes", strings.TrimSpace(errs), sent, got, size)
	}
	waitEvent(t, w, since, func(e Event) bool {
		return e.Kind == EventFault && e.Fault == "tcp.reset" && strings.Contains(e.Detail, "reset after 65536 bytes")
	})

	o.mu.Lock()
	o.got = nil
	o.mu.Unlock()
	down := &faults.TCPReset{} // the default: at headers, toward the client
	activate(t, w, spec("tcp.reset", down, m, faults.When{}))
	code, out, errs = curl(t, w, "-H", "Expect:", "--data-binary", "@"+file, "-o", "/dev/null", "-w", "%{http_code}", o.URL+"/upload")
	if code != curlRecvError && code != curlSendError {
		// down resets at the answer: curl has sent everything by then.
		t.Fatalf("down: curl exit %d %s (%s), want a receive failure", code, out, errs)
	}
	if got := o.received(t); got != size {
		t.Errorf("down: the origin received %d bytes, want all %d", got, size)
	}
}

// Every kind with direction up acts on the client's bytes toward the
// server and leaves the answer alone: the origin's view (bytes, time) and
// the client's.
func TestDirectionUpKinds(t *testing.T) {
	w := proxyWorld(t, Options{MaxStall: 10 * time.Second})
	body := blob(64 << 10)
	at := func(f faults.PhaseBound, n int64) faults.PhaseBound {
		f.At, f.AfterBytes = profile.PhaseRequest, n
		return f
	}
	up := faults.Directed{Direction: faults.Up}
	cases := []struct {
		name   string
		kind   string
		fault  faults.Fault
		check  func(t *testing.T, got int64, took time.Duration, status int, err error)
		minDur time.Duration
	}{
		{"reset", "tcp.reset", &faults.TCPReset{PhaseBound: at(faults.PhaseBound{}, 1000), Directed: up},
			func(t *testing.T, got int64, _ time.Duration, _ int, err error) {
				if err == nil || got >= int64(len(body)) {
					t.Errorf("err %v, origin got %d of %d", err, got, len(body))
				}
			}, 0},
		{"close", "tcp.close", &faults.TCPClose{PhaseBound: at(faults.PhaseBound{}, 1000), Directed: up},
			func(t *testing.T, got int64, _ time.Duration, status int, err error) {
				// The proxy reads the end of the stream mid-body: the
				// request is broken, the origin gets part of it.
				if got >= int64(len(body)) || err == nil && status < 400 {
					t.Errorf("status %d err %v, origin got %d of %d", status, err, got, len(body))
				}
			}, 0},
		{"stall", "tcp.stall", &faults.TCPStall{PhaseBound: at(faults.PhaseBound{}, 1000), Directed: up, Duration: profile.Duration(300 * time.Millisecond)}, whole(len(body)), 300 * time.Millisecond},
		{"latency", "tcp.latency", &faults.TCPLatency{Latency: profile.Duration(300 * time.Millisecond), Directed: up}, whole(len(body)), 300 * time.Millisecond},
		{"bandwidth", "tcp.bandwidth", &faults.TCPBandwidth{Rate: 128 << 10, Directed: up}, whole(len(body)), 400 * time.Millisecond},
		{"slice", "tcp.slice", &faults.TCPSlice{Size: 8 << 10, Delay: profile.Duration(50 * time.Millisecond), Directed: up}, whole(len(body)), 350 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := newUploadOrigin(t)
			activate(t, w, spec(tc.kind, tc.fault, faults.Match{Path: "/upload"}, faults.When{}))
			c := client(t, w, nil, 10*time.Second)
			begin := time.Now()
			resp, err := c.Post(o.URL+"/upload", "application/octet-stream", bytes.NewReader(body))
			status := 0
			if err == nil {
				status = resp.StatusCode
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			took := time.Since(begin)
			var got int64
			if status == http.StatusOK || tc.minDur > 0 {
				got = o.received(t)
			} else if eventually(2*time.Second, func() bool { o.mu.Lock(); defer o.mu.Unlock(); return len(o.got) > 0 }) {
				got = o.received(t)
			}
			tc.check(t, got, took, status, err)
			if tc.minDur > 0 && took < tc.minDur {
				t.Errorf("the upload took %v, want at least %v", took, tc.minDur)
			}
			t.Logf("status %d err %v, origin got %d of %d bytes in %v", status, err, got, len(body), took.Round(time.Millisecond))
		})
	}
}

// whole checks an upload that arrived whole and was answered.
func whole(n int) func(t *testing.T, got int64, took time.Duration, status int, err error) {
	return func(t *testing.T, got int64, _ time.Duration, status int, err error) {
		if err != nil || status != http.StatusOK || got != int64(n) {
			t.Errorf("status %d err %v, origin got %d of %d", status, err, got, n)
		}
	}
}

// In an opaque CONNECT tunnel the up rule acts on the client's socket
// bytes (TLS records): armed at the origin's first byte, it resets the
// tunnel after the bytes it lets through, and the origin gets part of the
// upload.
func TestDirectionUpOpaqueTunnel(t *testing.T) {
	w := proxyWorld(t, Options{MaxStall: 10 * time.Second})
	var got int64 = -1
	var mu sync.Mutex
	o := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		mu.Lock()
		got = n
		mu.Unlock()
	}))
	t.Cleanup(o.Close)
	f := &faults.TCPReset{Directed: faults.Directed{Direction: faults.Up}}
	f.AfterBytes = 16 << 10
	activate(t, w, spec("tcp.reset", f, faults.Match{Host: "127.0.0.1"}, faults.When{}))
	since := w.journal.lastSeq()
	const size = 8 << 20
	_, err := client(t, w, o, 10*time.Second).Post(o.URL+"/upload", "application/octet-stream", bytes.NewReader(blob(size)))
	if err == nil {
		t.Fatal("the upload through the tunnel succeeded")
	}
	waitEvent(t, w, since, func(e Event) bool {
		return e.Kind == EventFault && e.Fault == "tcp.reset" && strings.Contains(e.Detail, "reset after 16384 bytes")
	})
	eventually(2*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return got >= 0 })
	mu.Lock()
	defer mu.Unlock()
	if got < 0 || got >= 16<<10 {
		t.Errorf("the origin received %d bytes of the body, want fewer than the 16 KiB of tunnel bytes let through", got)
	}
	t.Logf("client: %v; the origin received %d of %d bytes", err, got, size)
}
