// Command docgen generates faults/params_doc.go from the doc comments of
// the fault types' fields; see main.go.
package main
