// Command gen generates codes/catalog_generated.tsv from the Win32 error
// and HRESULT constants of golang.org/x/sys/windows; see main.go.
package main
