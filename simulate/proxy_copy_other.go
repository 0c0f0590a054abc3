//go:build !unix

package simulate

import "errors"

// haveRawRead is false: idleCopy and spliceCopy fall back to plain reads.
const haveRawRead = false

var errWouldBlock = errors.New("would block")

func rawRead(fd uintptr, b []byte) (int, error) { return 0, errWouldBlock }

func readable(fd uintptr) bool { return true }
