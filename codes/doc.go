// Package codes is the catalog of the error and success codes wufault deals
// with: the HRESULTs that Windows Update (WUA) and the components under it
// (WinHTTP, WinINet, Winsock, BITS, Delivery Optimization, Windows Web
// Services, CryptoAPI) report when the network misbehaves.
//
// A Code is a uint32 HRESULT. Parse reads every spelling found in logs and
// documents (0x80072efe, 80072EFE, [80072EFE], -2147012866, 12030,
// WININET_E_CONNECTION_ABORTED); String prints "0x80072EFE
// (WININET_E_CONNECTION_ABORTED)"; Lookup and LookupName return an Info with
// the names, a one-line meaning, the network faults known to produce the code
// and the reference tags it comes from. The package is a leaf: it imports
// only the standard library, and every other wufault package may use it.
//
// # Ground truth
//
// Every entry comes from the shared reference/wu-codes.md (sections 1,
// 2.1-2.6, the fault table of section 4 and the errata of section 8) or from
// Microsoft's "WUA success and error codes" page (tag [L-WUAERR], seed 004),
// checked against wuerror.h ([WUERR]). No code is invented: a value the
// reference could not name, such as 0x80D0000A, is deliberately absent, so
// Lookup fails for it and String prints only its hex form. Notable errata
// the catalog encodes:
//
//   - 0x80072EE7 is WININET_E_NAME_NOT_RESOLVED (DNS), not a timeout;
//     Winsock WSAETIMEDOUT is 0x8007274C.
//   - 0x80244020 is HTTP 501 and 0x80244023 is HTTP 504, whatever the
//     wuerror.h message text says.
//   - WU_E_REDIRECTOR_UNEXPECTED is 0x802450FF, not 0x80245FFF.
//   - 0x80240439 is WU_E_PT_INVALID_FORMAT (WU_E_NOT_INITIALIZED is 0x80240004).
//   - WS_E_* codes are 0x803D00xx, not 0x804D00xx.
//
// For WinHTTP errors the primary name is the WININET_E_* alias that
// winerror.h gives the HRESULT, where one exists; the ERROR_WINHTTP_*
// constant and the decimal error number are aliases, and Info.Win32 and
// Code.Win32 give the number (12030 for 0x80072EFE).
//
// # The generated table
//
// catalog_generated.tsv names every Win32 system error as HRESULT_FROM_WIN32
// (0x8007xxxx, ERROR_INVALID_PARAMETER as 0x80070057) and the common COM,
// RPC, storage, security, certificate, setup and side-by-side HRESULTs
// (E_INVALIDARG, RPC_E_*, CO_E_*, SPAPI_E_*), from the constant table that
// golang.org/x/sys/windows maintains (zerrors_windows.go), with the source
// tag [XSYS] and a generic meaning. Where a value has a COM name and a Win32
// name, the COM name is primary (0x80070057 is E_INVALIDARG, alias
// ERROR_INVALID_PARAMETER and 87). The hand-written catalog.tsv wins: a code
// or a name it has is left out of the generated table. Regenerate after an
// x/sys upgrade or a change to catalog.tsv with
//
//	go generate ./codes
//
// (internal/gen; a test fails while the checked-in table is stale).
//
// # The table
//
// The catalog is catalog.tsv in this directory, embedded with go:embed and
// parsed once when the package is initialised. It is tab-separated, with one
// header line and one row per code; blank lines and lines starting with #
// are ignored. Columns:
//
//	code     0x and 8 upper-case hex digits; rows sorted by code, no duplicates
//	signed   the same value as a signed 32-bit decimal (checked against code)
//	name     primary name, an upper-case constant
//	aliases  comma-separated other names; a decimal alias must be the Win32
//	         error number of the code
//	source   space-separated reference tags: [WUERR] [L-WINHTTPERR] arith. ...
//	meaning  one line of English
//	causes   network faults that produce the code, with evidence tags; may be empty
//
// The facility is not stored: Code.Facility derives it from the value.
// A malformed row makes the package panic at initialisation with an error
// that names the line and, for a wrong signed column, gives the right value;
// go test ./codes shows it, and TestLoadCatalogRejects pins those checks.
//
// # Adding a code
//
//  1. Find the code in the reference (or wuerror.h/winerror.h) and note the
//     tag of the source. Do not add a code or a name you cannot cite.
//  2. Insert a row at its sorted position in catalog.tsv, with the signed
//     decimal (the value minus 2^32 when the top bit is set) and an English
//     meaning in your own words. Separate columns with exactly one tab and
//     leave no spaces around column values.
//  3. If the code comes from a reference table that the tests mirror, add it
//     to testdata/reference_codes.txt (or testdata/seed004_codes.txt).
//  4. Run go test ./codes. The tests check the row syntax, the signed
//     column, unique names and aliases, and the errata above.
package codes
