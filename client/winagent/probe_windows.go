//go:build windows

package winagent

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/wufault/wufault/client"
)

var (
	winhttp          = windows.NewLazySystemDLL("winhttp.dll")
	procOpen         = winhttp.NewProc("WinHttpOpen")
	procConnect      = winhttp.NewProc("WinHttpConnect")
	procOpenRequest  = winhttp.NewProc("WinHttpOpenRequest")
	procSendRequest  = winhttp.NewProc("WinHttpSendRequest")
	procReceive      = winhttp.NewProc("WinHttpReceiveResponse")
	procQueryHeaders = winhttp.NewProc("WinHttpQueryHeaders")
	procReadData     = winhttp.NewProc("WinHttpReadData")
	procSetTimeouts  = winhttp.NewProc("WinHttpSetTimeouts")
	procCloseHandle  = winhttp.NewProc("WinHttpCloseHandle")
	procDefaultProxy = winhttp.NewProc("WinHttpGetDefaultProxyConfiguration")
	procSetOption    = winhttp.NewProc("WinHttpSetOption")
	kernel32         = windows.NewLazySystemDLL("kernel32.dll")
	procGlobalFree   = kernel32.NewProc("GlobalFree")
)

// winhttp.h constants.
const (
	accessTypeDefaultProxy       = 0
	accessTypeNoProxy            = 1
	accessTypeNamedProxy         = 3
	flagSecure                   = 0x00800000
	queryStatusCode              = 19
	queryContentLength           = 5
	queryFlagNumber              = 0x20000000
	addHeadersAuto               = ^uintptr(0) // (DWORD)-1L: the headers are NUL-terminated
	optionReceiveResponseTimeout = 7           // WINHTTP_OPTION_RECEIVE_RESPONSE_TIMEOUT
)

// proxyInfo is WINHTTP_PROXY_INFO.
type proxyInfo struct {
	accessType  uint32
	proxy       *uint16
	proxyBypass *uint16
}

// systemProxy returns the WinHTTP default proxy configuration (what
// `netsh winhttp show proxy` shows): "direct" or the proxy list.
func systemProxy() (string, error) {
	if err := procDefaultProxy.Find(); err != nil {
		return "", err
	}
	var pi proxyInfo
	r, _, e := procDefaultProxy.Call(uintptr(unsafe.Pointer(&pi)))
	if r == 0 {
		return "", fmt.Errorf("WinHttpGetDefaultProxyConfiguration: %w", e)
	}
	defer func() {
		for _, p := range []*uint16{pi.proxy, pi.proxyBypass} {
			if p != nil {
				procGlobalFree.Call(uintptr(unsafe.Pointer(p)))
			}
		}
	}()
	if pi.accessType != accessTypeNamedProxy || pi.proxy == nil {
		return "direct", nil
	}
	s := windows.UTF16PtrToString(pi.proxy)
	if pi.proxyBypass != nil {
		if b := windows.UTF16PtrToString(pi.proxyBypass); b != "" {
			s += " (bypass " + b + ")"
		}
	}
	return s, nil
}

// winErr extracts the GetLastError value of a failed call.
func winErr(e error) uint32 {
	var n syscall.Errno
	if errors.As(e, &n) {
		return uint32(n)
	}
	return 0
}

// Probe requests one endpoint through the real WinHTTP and reports the
// stage that failed and GetLastError, interpreted (Interpret).
func Probe(ctx context.Context, ep client.Endpoint, o ProbeOptions) (r ProbeResult) {
	start := time.Now()
	r = ProbeResult{URL: ep.URL, Class: ep.Class, Role: ep.Role, Stage: "open", ContentLength: -1}
	defer func() {
		r.Duration = time.Since(start)
		Interpret(&r)
	}()
	if err := winhttp.Load(); err != nil {
		r.Note = "winhttp.dll: " + err.Error()
		r.Win32 = winErr(err)
		return r
	}
	u, err := url.Parse(ep.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		r.Win32 = 12005 // ERROR_WINHTTP_INVALID_URL, as WinHttpCrackUrl would
		return r
	}
	agent := o.UserAgent
	if agent == "" {
		agent = Version
	}
	access, proxyArg := uintptr(accessTypeDefaultProxy), (*uint16)(nil)
	switch {
	case o.Direct:
		access, r.Proxy = accessTypeNoProxy, "direct"
	case o.Proxy != "":
		access, r.Proxy = accessTypeNamedProxy, "named: "+o.Proxy
		proxyArg = windows.StringToUTF16Ptr(o.Proxy)
	default:
		sp, err := systemProxy()
		if err != nil {
			sp = "unknown (" + err.Error() + ")"
		}
		r.Proxy = "system: " + sp
	}
	session, _, e := procOpen.Call(uintptr(unsafe.Pointer(windows.StringToUTF16Ptr(agent))), access,
		uintptr(unsafe.Pointer(proxyArg)), 0, 0)
	if session == 0 {
		r.Win32 = winErr(e)
		return r
	}
	defer procCloseHandle.Call(session)
	if o.Timeout > 0 {
		ms := uintptr(o.Timeout.Milliseconds())
		if ok, _, e := procSetTimeouts.Call(session, ms, ms, ms, ms); ok == 0 {
			r.Win32 = winErr(e)
			return r
		}
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		port, _ = strconv.Atoi(p)
	}
	r.Stage = "connect"
	conn, _, e := procConnect.Call(session, uintptr(unsafe.Pointer(windows.StringToUTF16Ptr(u.Hostname()))), uintptr(port), 0)
	if conn == 0 {
		r.Win32 = winErr(e)
		return r
	}
	defer procCloseHandle.Call(conn)
	method, headers, body := requestShape(ep.Role)
	object := u.EscapedPath()
	if object == "" {
		object = "/"
	}
	if u.RawQuery != "" {
		object += "?" + u.RawQuery
	}
	flags := uintptr(0)
	if u.Scheme == "https" {
		flags = flagSecure
	}
	r.Stage = "request"
	req, _, e := procOpenRequest.Call(conn, uintptr(unsafe.Pointer(windows.StringToUTF16Ptr(method))),
		uintptr(unsafe.Pointer(windows.StringToUTF16Ptr(object))), 0, 0, 0, flags)
	if req == 0 {
		r.Win32 = winErr(e)
		return r
	}
	if o.Timeout > 0 {
		// The wait for the response headers has its own timeout; give it
		// the same bound (Windows defaults it to the receive timeout, Wine
		// to none).
		ms := uint32(o.Timeout.Milliseconds())
		if ok, _, e := procSetOption.Call(req, optionReceiveResponseTimeout, uintptr(unsafe.Pointer(&ms)), 4); ok == 0 {
			r.Win32 = winErr(e)
			return r
		}
	}
	// Closing the request handle from another goroutine cancels a
	// blocked synchronous call (ERROR_WINHTTP_OPERATION_CANCELLED).
	var closeOnce sync.Once
	closeReq := func() { closeOnce.Do(func() { procCloseHandle.Call(req) }) }
	defer closeReq()
	stop := context.AfterFunc(ctx, closeReq)
	defer stop()

	r.Stage = "send"
	var hdr *uint16
	hdrLen := uintptr(0)
	if headers != "" {
		hdr = windows.StringToUTF16Ptr(headers)
		hdrLen = addHeadersAuto
	}
	var bodyPtr uintptr
	if len(body) > 0 {
		bodyPtr = uintptr(unsafe.Pointer(&body[0]))
	}
	if ok, _, e := procSendRequest.Call(req, uintptr(unsafe.Pointer(hdr)), hdrLen, bodyPtr, uintptr(len(body)), uintptr(len(body)), 0); ok == 0 {
		r.Win32 = winErr(e)
		return r
	}
	r.Stage = "receive"
	if ok, _, e := procReceive.Call(req, 0); ok == 0 {
		r.Win32 = winErr(e)
		return r
	}
	r.Stage = "status"
	var status, size uint32 = 0, 4
	if ok, _, e := procQueryHeaders.Call(req, queryStatusCode|queryFlagNumber, 0, uintptr(unsafe.Pointer(&status)), uintptr(unsafe.Pointer(&size)), 0); ok == 0 {
		r.Win32 = winErr(e)
		return r
	}
	r.Status = int(status)
	var clen uint32
	size = 4
	if ok, _, _ := procQueryHeaders.Call(req, queryContentLength|queryFlagNumber, 0, uintptr(unsafe.Pointer(&clen)), uintptr(unsafe.Pointer(&size)), 0); ok != 0 {
		r.ContentLength = int64(clen)
	}
	r.Stage = "read"
	max := o.MaxBody
	if max <= 0 {
		max = 64 << 10
	}
	buf := make([]byte, 16<<10)
	for r.Bytes < max {
		var n uint32
		if ok, _, e := procReadData.Call(req, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), uintptr(unsafe.Pointer(&n))); ok == 0 {
			r.Win32 = winErr(e)
			return r
		}
		if n == 0 {
			break
		}
		r.Bytes += int64(n)
	}
	r.Stage = "done"
	return r
}
