package simulate

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fdCounter counts this process's open descriptors, pipes included (the
// pipes of TCP splices are what the proxy used to keep after a load),
// without allocating: a poll that allocates runs the garbage collector,
// which would release the pipes by itself.
type fdCounter struct{ buf []byte }

func (f *fdCounter) count(t testing.TB) int {
	t.Helper()
	fd, err := syscall.Open("/proc/self/fd", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	defer syscall.Close(fd)
	n := -1 // the directory's own descriptor
	for {
		k, err := syscall.Getdents(fd, f.buf)
		if err != nil {
			t.Fatalf("getdents: %v", err)
		}
		if k <= 0 {
			return n
		}
		for off := 0; off < k; {
			// struct linux_dirent64: ino 8, off 8, reclen 2, type 1, name.
			reclen := int(f.buf[off+16]) | int(f.buf[off+17])<<8
			if name := f.buf[off+19]; name != '.' {
				n++
			}
			off += reclen
		}
	}
}

// TestProxyReleasesAfterLoad: after a load of a few hundred concurrent
// plain and CONNECT requests, the proxy kept its idle upstream
// connections (and the origins' goroutines and sockets behind them) for
// 90 s and the net package's pooled splice pipes until the garbage
// collector's next forced cycle, minutes later. Once no client connection
// has been open for quietRelease, the proxy closes its idle upstream
// connections and has the pipes released: goroutines and descriptors are
// back near where they were before the load within 30 s.
func TestProxyReleasesAfterLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("a load of a few hundred connections")
	}
	w := proxyWorld(t, Options{})
	plain, secure := origin(t, false), origin(t, true)

	// Settle what the world and the origins start with.
	fds := &fdCounter{buf: make([]byte, 64<<10)}
	runtime.GC()
	time.Sleep(100 * time.Millisecond)
	baseG, baseFD := runtime.NumGoroutine(), fds.count(t)

	const clients = 300
	c := client(t, w, secure, 30*time.Second)
	c.Transport.(*http.Transport).MaxIdleConnsPerHost = clients
	var wg sync.WaitGroup
	errs := make(chan error, 3*clients)
	get := func(url string, want int) {
		resp, err := c.Get(url)
		if err != nil {
			errs <- err
			return
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != int64(want) || resp.StatusCode != http.StatusOK {
			errs <- fmt.Errorf("GET %s: %s, %d bytes, %v", url, resp.Status, n, err)
		}
	}
	post := func(url string) {
		resp, err := c.Post(url, "text/plain", strings.NewReader("ping"))
		if err != nil {
			errs <- err
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !strings.HasPrefix(string(b), "POST /echo") {
			errs <- fmt.Errorf("POST %s: %s, %q, %v", url, resp.Status, b, err)
		}
	}
	for range clients {
		wg.Go(func() {
			get(plain.URL+"/blob/70000", 70000)  // plain GET: the splicing exchange
			post(plain.URL + "/echo")            // plain POST: the Transport
			get(secure.URL+"/blob/70000", 70000) // CONNECT: an opaque tunnel
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	peakG, peakFD := runtime.NumGoroutine(), fds.count(t)
	c.Transport.(*http.Transport).CloseIdleConnections()

	// A loaded box keeps some goroutines busy a little longer; a margin
	// well under the load's own count.
	const margin = 25
	var g, fd int
	start := time.Now()
	back := false
	for deadline := start.Add(30 * time.Second); !back && time.Now().Before(deadline); {
		time.Sleep(250 * time.Millisecond)
		g, fd = runtime.NumGoroutine(), fds.count(t)
		back = g <= baseG+margin && fd <= baseFD+margin
	}
	t.Logf("goroutines %d → %d → %d, descriptors %d → %d → %d, after %v",
		baseG, peakG, g, baseFD, peakFD, fd, time.Since(start).Round(time.Millisecond))
	if !back {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Fatalf("not back near the baseline within 30s: goroutines %d (baseline %d), descriptors %d (baseline %d)\n%s",
			g, baseG, fd, baseFD, buf[:min(len(buf), 8000)])
	}
}
