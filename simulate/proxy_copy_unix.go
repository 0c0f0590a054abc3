//go:build unix

package simulate

import "syscall"

// haveRawRead says that idleCopy and spliceCopy can read a socket without
// blocking from inside syscall.RawConn.Read.
const haveRawRead = true

// errWouldBlock is what rawRead returns when nothing is there to read.
var errWouldBlock error = syscall.EAGAIN

// rawRead reads the socket once without blocking.
func rawRead(fd uintptr, b []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), b)
		if err != syscall.EINTR {
			return n, err
		}
	}
}

// readable reports, without consuming anything, whether the socket has
// data, an EOF or an error to read (a RawConn.Read callback).
func readable(fd uintptr) bool {
	var one [1]byte
	_, _, err := syscall.Recvfrom(int(fd), one[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN
}
