//go:build linux

package winagent_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/client/winagent"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/internal/testnet"
	"github.com/wufault/wufault/internal/wine"
)

// setupWine starts a private Wine prefix with the agent (internal/wine)
// whose name lookups go to 127.0.0.86; it skips with the install command
// when wine64 or mingw are missing.
func setupWine(t *testing.T) *wine.Env {
	t.Helper()
	if testing.Short() {
		t.Skip("the Wine test takes ~30 s to boot its prefix; skipped with -short")
	}
	if _, err := wine.Find(); err != nil {
		t.Skipf("the WinHTTP probe test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	w, err := wine.Start(ctx, wine.Options{Dir: t.TempDir(), Resolver: "127.0.0.86"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Log(err)
		}
	})
	return w
}

// nxdomainServer answers NXDOMAIN to everything on 127.0.0.86:53 (a loopback address of its own, so no other test holds the port).
func nxdomainServer(t *testing.T) bool {
	pc, err := net.ListenPacket("udp", "127.0.0.86:53")
	if err != nil {
		t.Logf("cannot listen on 127.0.0.86:53 (%v): the name-not-resolved case is skipped", err)
		return false
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(rw dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeNameError)
		rw.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return true
}

// faultServer serves one behaviour per path on a loopback port.
func faultServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	testnet.Serve(t, ln, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		// One request per connection: every answer says so, or WinHTTP may
		// reuse a connection this server has already closed.
		head := "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 4096\r\nConnection: close\r\n\r\n"
		switch req.URL.Path {
		case "/status/407":
			c.Write([]byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"lab\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		case "/status/503":
			c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbusy\n"))
		case "/selfupdate/wuident.cab":
			c.Write([]byte("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		case "/reset":
			fc := (&faults.TCPReset{PhaseBound: faults.PhaseBound{AfterBytes: int64(len(head) + 512)}}).WrapConn(c, func(string) {})
			fc.Write([]byte(head))
			fc.Write(bytes.Repeat([]byte("x"), 4096))
		case "/reset0":
			(&faults.TCPReset{}).WrapConn(c, func(string) {})
		case "/fin":
			fc := (&faults.TCPClose{PhaseBound: faults.PhaseBound{AfterBytes: int64(len(head) + 100)}}).WrapConn(c, func(string) {})
			fc.Write([]byte(head))
			fc.Write(bytes.Repeat([]byte("x"), 4096))
		case "/stall":
			select { // silent until the client gives up
			case <-done:
			case <-time.After(4 * time.Second):
			}
		case "/garbage":
			c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n\r\n"))
		default:
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
		}
	})
	t.Cleanup(func() { close(done) }) // runs before Serve's: a stalled handler returns
	return ln.Addr().String()
}

// TestWineProbe runs the agent's WinHTTP probe under Wine against faults
// served on loopback and checks the GetLastError each one gives. Where
// Wine's WinHTTP differs from Windows', the table says what Windows
// returns (reference/wu-codes.md section 1) and the test asserts Wine's.
func TestWineProbe(t *testing.T) {
	w := setupWine(t)
	t.Run("wua scan", func(t *testing.T) { wineScan(t, w) })
	addr := faultServer(t)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	refused := closed.Addr().String()
	closed.Close()
	dnsOK := w.Isolated() && nxdomainServer(t)

	// Each row: what Wine's WinHTTP returns (asserted) and, where it
	// differs, what Windows' WinHTTP returns (reference/wu-codes.md
	// section 1, section 4 rows 4, 6, 8, 9, 22).
	cases := []struct {
		name    string
		url     string
		stage   string
		win32   uint32 // Wine's GetLastError
		status  int
		bytes   int64 // body bytes read, when the body matters
		wua     codes.Code
		windows string // Windows' outcome when Wine's differs
		skip    bool
		// alts are Wine's other outcomes where it depends on timing: when
		// the RST arrives before Wine has read the data, Linux drops the
		// receive buffer and recv fails with ECONNRESET (10054), while
		// reading the body or, on a loaded machine, the headers already.
		alts []winagent.ProbeResult
	}{
		{name: "name not resolved", url: "http://nonexistent.invalid/ClientWebService/client.asmx", stage: "send", win32: 12007, wua: 0x8024402C, skip: !dnsOK},
		{name: "connection refused", url: "http://" + refused + "/", stage: "send", win32: 12029, wua: 0x80072EFD},
		{name: "proxy auth 407", url: "http://" + addr + "/status/407", stage: "done", status: 407, wua: 0x8024401B},
		{name: "service unavailable 503", url: "http://" + addr + "/status/503", stage: "done", status: 503, wua: 0x80244022},
		{name: "not found 404", url: "http://" + addr + "/selfupdate/wuident.cab", stage: "done", status: 404, wua: 0x80244019},
		// Wine ends the body at the reset as if it were complete: no
		// error, 512 of 4096 bytes (the agent notes the short body).
		{name: "reset mid-body", url: "http://" + addr + "/reset", stage: "done", status: 200, bytes: 512,
			windows: "WinHttpReadData fails with 12030 (ERROR_WINHTTP_CONNECTION_ERROR), WUA 0x80072EFE",
			alts:    []winagent.ProbeResult{{Stage: "read", Win32: 10054, Status: 200, WUA: 0x80072EFE}, {Stage: "receive", Win32: 10054, WUA: 0x80072EFE}}},
		{name: "reset before the response", url: "http://" + addr + "/reset0", stage: "receive", win32: 12152, wua: 0x80072F78,
			windows: "WinHttpReceiveResponse fails with 12030, WUA 0x80072EFE",
			alts:    []winagent.ProbeResult{{Stage: "receive", Win32: 10054, WUA: 0x80072EFE}}},
		// The response timeout (1 s here, WINHTTP_OPTION_RECEIVE_RESPONSE_TIMEOUT;
		// without it Wine waits for ever) fires; Wine passes the socket's
		// WSAETIMEDOUT (10060) through, which the agent maps to 12002.
		{name: "stall before headers", url: "http://" + addr + "/stall", stage: "receive", win32: 10060, wua: 0x80072EE2,
			windows: "WinHttpReceiveResponse fails with 12002 (ERROR_WINHTTP_TIMEOUT), WUA 0x80072EE2 (0x8024401C on Windows 10+ SOAP)"},
		{name: "malformed reply", url: "http://" + addr + "/garbage", stage: "receive", win32: 12152, wua: 0x80072F78},
		// FIN mid-body behaves like the reset under Wine: a short body.
		{name: "fin mid-body", url: "http://" + addr + "/fin", stage: "done", status: 200, bytes: 100,
			windows: "WinHttpReadData fails with 12030, WUA 0x80072EFE"},
	}
	args := []string{"--direct", "--timeout", "1s"}
	for _, c := range cases {
		if !c.skip {
			args = append(args, "--url", c.url)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	got, err := w.RunAgent(ctx, args...)
	if err != nil {
		t.Fatalf("agent under Wine: %v", err)
	}
	byURL := map[string]winagent.ProbeResult{}
	for _, p := range got.Probes {
		byURL[p.URL] = p
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.skip {
				t.Skip("no private mount namespace or port 53: Wine would ask the host's resolver, so this case is skipped")
			}
			p, ok := byURL[c.url]
			if !ok {
				t.Fatalf("no result for %s", c.url)
			}
			t.Logf("%s: stage %s win32 %d status %d bytes %d code %s wua %s after %s %s", c.url, p.Stage, p.Win32, p.Status, p.Bytes, p.Code.Hex(), p.WUA, p.Duration, p.Note)
			if c.windows != "" {
				t.Logf("Wine deviates from Windows here; Windows: %s", c.windows)
			}
			for _, a := range c.alts {
				if p.Stage == a.Stage && p.Win32 == a.Win32 && p.Status == a.Status && p.WUA == a.WUA {
					t.Logf("Wine's timing-dependent outcome: %s", p.Note)
					if !strings.Contains(p.Note, "Windows' WinHTTP reports 12030") {
						t.Errorf("note %q does not name Windows' 12030", p.Note)
					}
					return
				}
			}
			if p.Stage != c.stage || p.Win32 != c.win32 || p.Status != c.status || p.WUA != c.wua {
				t.Errorf("stage %q win32 %d status %d wua %s; want %q %d %d %s", p.Stage, p.Win32, p.Status, p.WUA, c.stage, c.win32, c.status, c.wua)
			}
			if c.win32 != 0 && p.Code != codes.FromWin32(c.win32) {
				t.Errorf("code %s, want %s", p.Code, codes.FromWin32(c.win32))
			}
			if c.win32 >= 10000 && c.win32 < 12000 && !strings.Contains(p.Note, "Windows' WinHTTP reports") {
				t.Errorf("a Winsock code without the note naming Windows' code: %q", p.Note)
			}
			if c.bytes != 0 && (p.Bytes != c.bytes || !strings.Contains(p.Note, fmt.Sprintf("%d of 4096", c.bytes))) {
				t.Errorf("bytes %d note %q, want %d bytes noted as short", p.Bytes, p.Note, c.bytes)
			}
		})
	}
}

// wineScan runs the real WUA COM path under Wine: its wuapi.dll creates
// IUpdateSession and IUpdateSearcher but does not implement Search, so
// the scan must end at stage "search" with E_NOTIMPL — which also shows
// the vtable slots are the right ones.
func wineScan(t *testing.T, w *wine.Env) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got, err := w.RunAgent(ctx, "--no-probe", "--scan")
	if err != nil || got.Scan == nil {
		t.Fatalf("agent under Wine: %v %+v", err, got)
	}
	s := got.Scan
	if s.Stage != "search" || s.HResult != 0x80004001 || s.Code != 0x80004001 {
		t.Errorf("scan %+v, want stage search, E_NOTIMPL", *s)
	}
}
