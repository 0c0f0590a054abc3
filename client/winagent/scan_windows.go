//go:build windows

package winagent

import (
	"context"
	"runtime"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/wufault/wufault/codes"
)

var (
	ole32              = windows.NewLazySystemDLL("ole32.dll")
	procCoCreate       = ole32.NewProc("CoCreateInstance")
	oleaut32           = windows.NewLazySystemDLL("oleaut32.dll")
	procSysAllocString = oleaut32.NewProc("SysAllocString")
	procSysFreeString  = oleaut32.NewProc("SysFreeString")
)

// WUA COM identities (wuapi.h).
var (
	clsidUpdateSession = windows.GUID{Data1: 0x4CB43D7F, Data2: 0x7EEE, Data3: 0x4906, Data4: [8]byte{0x86, 0x98, 0x60, 0xDA, 0x1C, 0x38, 0xF2, 0xFE}}
	iidIUpdateSession  = windows.GUID{Data1: 0x816858A4, Data2: 0x260D, Data3: 0x4260, Data4: [8]byte{0x93, 0x3A, 0x25, 0x85, 0xF1, 0xAB, 0xC7, 0x6B}}
)

// Vtable slots (IUnknown 0-2, IDispatch 3-6, then the interface's own
// methods in wuapi.h order).
const (
	slotRelease = 2

	sessionCreateUpdateSearcher = 12 // IUpdateSession

	searcherPutServerSelection = 14 // IUpdateSearcher
	searcherSearch             = 19
	searcherPutOnline          = 21

	resultGetResultCode = 7 // ISearchResult
	resultGetUpdates    = 9
	resultGetWarnings   = 10

	updatesGetCount = 10 // IUpdateCollection

	exceptionsGetItem  = 7 // IUpdateExceptionCollection
	exceptionsGetCount = 9

	exceptionGetMessage = 7 // IUpdateException
	exceptionGetHResult = 8
	exceptionGetContext = 9
)

const clsctxAll = 0x1 | 0x4 // CLSCTX_INPROC_SERVER | CLSCTX_LOCAL_SERVER

// comObject is a COM interface pointer: its first word is the vtable.
type comObject struct {
	vtbl *[32]uintptr
}

func (o *comObject) call(slot int, args ...uintptr) uint32 {
	r, _, _ := syscall.SyscallN(o.vtbl[slot], append([]uintptr{uintptr(unsafe.Pointer(o))}, args...)...)
	return uint32(r)
}

func (o *comObject) release() {
	if o != nil {
		o.call(slotRelease)
	}
}

func failed(hr uint32) bool { return hr&0x80000000 != 0 }

// Scan runs IUpdateSearcher::Search through the WUA COM API and reports
// its HRESULT (the code WUA logs as "Exit code" and in Operational
// event 25), the result code, the number of updates and the warnings.
// ctx is not able to cancel a running search (WUA's synchronous Search has
// no cancel); the caller may abandon it.
func Scan(ctx context.Context, o ScanOptions) ScanResult {
	type out struct{ r ScanResult }
	ch := make(chan out, 1)
	go func() { ch <- out{scan(o)} }()
	select {
	case res := <-ch:
		return res.r
	case <-ctx.Done():
		r := InterpretScan("search", uint32(codes.FromWin32(1460)), 0, 0, nil) // ERROR_TIMEOUT
		r.Note = "abandoned: " + ctx.Err().Error()
		return r
	}
}

func scan(o ScanOptions) ScanResult {
	start := time.Now()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	res := func(stage string, hr uint32, rc, n int, w []ScanWarning) ScanResult {
		r := InterpretScan(stage, hr, rc, n, w)
		r.Duration = time.Since(start)
		return r
	}
	if err := windows.CoInitializeEx(0, windows.COINIT_MULTITHREADED); err != nil {
		if en, ok := err.(syscall.Errno); ok && uint32(en) != 1 { // S_FALSE: already initialised
			return res("com", uint32(en), 0, 0, nil)
		}
	} else {
		defer windows.CoUninitialize()
	}
	if err := ole32.Load(); err != nil {
		return res("com", uint32(codes.FromWin32(126)), 0, 0, nil) // ERROR_MOD_NOT_FOUND
	}
	var session *comObject
	hr, _, _ := procCoCreate.Call(uintptr(unsafe.Pointer(&clsidUpdateSession)), 0, clsctxAll,
		uintptr(unsafe.Pointer(&iidIUpdateSession)), uintptr(unsafe.Pointer(&session)))
	if failed(uint32(hr)) || session == nil {
		return res("com", uint32(hr), 0, 0, nil)
	}
	defer session.release()
	var searcher *comObject
	if h := session.call(sessionCreateUpdateSearcher, uintptr(unsafe.Pointer(&searcher))); failed(h) || searcher == nil {
		return res("searcher", h, 0, 0, nil)
	}
	defer searcher.release()
	if o.ServerSelection != 0 {
		if h := searcher.call(searcherPutServerSelection, uintptr(o.ServerSelection)); failed(h) {
			return res("searcher", h, 0, 0, nil)
		}
	}
	if o.Offline {
		if h := searcher.call(searcherPutOnline, 0); failed(h) { // VARIANT_FALSE
			return res("searcher", h, 0, 0, nil)
		}
	}
	criteria := o.Criteria
	if criteria == "" {
		criteria = "IsInstalled=0 and Type='Software'"
	}
	bstr, _, _ := procSysAllocString.Call(uintptr(unsafe.Pointer(windows.StringToUTF16Ptr(criteria))))
	defer procSysFreeString.Call(bstr)
	var result *comObject
	if h := searcher.call(searcherSearch, bstr, uintptr(unsafe.Pointer(&result))); failed(h) || result == nil {
		return res("search", h, 0, 0, nil)
	}
	defer result.release()
	var rc int32
	if h := result.call(resultGetResultCode, uintptr(unsafe.Pointer(&rc))); failed(h) {
		return res("result", h, 0, 0, nil)
	}
	n := 0
	var updates *comObject
	if h := result.call(resultGetUpdates, uintptr(unsafe.Pointer(&updates))); !failed(h) && updates != nil {
		var cnt int32
		if !failed(updates.call(updatesGetCount, uintptr(unsafe.Pointer(&cnt)))) {
			n = int(cnt)
		}
		updates.release()
	}
	var warnings []ScanWarning
	var exs *comObject
	if h := result.call(resultGetWarnings, uintptr(unsafe.Pointer(&exs))); !failed(h) && exs != nil {
		var cnt int32
		if !failed(exs.call(exceptionsGetCount, uintptr(unsafe.Pointer(&cnt)))) {
			for i := 0; i < int(cnt) && i < 64; i++ {
				var ex *comObject
				if failed(exs.call(exceptionsGetItem, uintptr(i), uintptr(unsafe.Pointer(&ex)))) || ex == nil {
					continue
				}
				var w ScanWarning
				var hrv, ctxv int32
				if !failed(ex.call(exceptionGetHResult, uintptr(unsafe.Pointer(&hrv)))) {
					w.HResult = codes.Code(uint32(hrv))
				}
				if !failed(ex.call(exceptionGetContext, uintptr(unsafe.Pointer(&ctxv)))) {
					w.Context = int(ctxv)
				}
				var msg *uint16
				if !failed(ex.call(exceptionGetMessage, uintptr(unsafe.Pointer(&msg)))) && msg != nil {
					w.Message = windows.UTF16PtrToString(msg)
					procSysFreeString.Call(uintptr(unsafe.Pointer(msg)))
				}
				ex.release()
				warnings = append(warnings, w)
			}
		}
		exs.release()
	}
	return res("done", 0, int(rc), n, warnings)
}
