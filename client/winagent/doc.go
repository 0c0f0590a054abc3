// Package winagent is the Windows side of a lab: it asks the real Windows
// stack what a fault does, so observations can stand beside the emulated
// client's predictions.
//
// On Windows (the wufault-agent.exe built from cmd/wufault-agent):
//
//   - Probe requests each Windows Update endpoint (the same list as
//     `wufault probe`: client.MicrosoftUpdateEndpoints or
//     client.WSUSEndpoints) through the real winhttp.dll, with the system
//     proxy WUA uses (WINHTTP_ACCESS_TYPE_DEFAULT_PROXY, set by `netsh
//     winhttp set proxy`) or a named one, and reports GetLastError as a
//     code (codes.FromWin32) together with what WUA would make of it
//     (reference/wu-codes.md 3.2 and 3.3).
//   - Scan runs a real Windows Update search through the WUA COM API
//     (IUpdateSession, IUpdateSearcher::Search, ISearchResult), called
//     through its vtables with golang.org/x/sys/windows, and reports its
//     HRESULT.
//
// The rest compiles everywhere and is tested on Linux: interpreting probe
// and scan results (Interpret, InterpretScan), the reports posted to the
// lab's control API (Report, PostReports: POST /reports, journalled as
// "report" events for the active scenario) and the commands that point a
// Windows VM at the lab (SetupCommands).
//
// The WinHTTP probe is also tested under Wine against servers on
// loopback; Wine's WinHTTP deviates from Windows in places (a reset is
// reported as the Winsock error 10054 instead of 12030), and the tests
// say where.
package winagent
