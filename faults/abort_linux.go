package faults

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// waitUnsent polls the socket's send queue (SIOCOUTQ) until it is empty
// or d has passed.
func waitUnsent(c lingerer, d time.Duration) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	deadline := time.Now().Add(d)
	for wait := 100 * time.Microsecond; ; wait = min(2*wait, 20*time.Millisecond) {
		var outq int
		var ierr error
		if err := rc.Control(func(fd uintptr) { outq, ierr = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) }); err != nil || ierr != nil || outq == 0 {
			return
		}
		if time.Now().After(deadline) {
			return
		}
		time.Sleep(wait)
	}
}
