package simulate

import (
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// parker watches the origin side of tunnels that have not carried data
// from the origin yet, with one epoll instance and one goroutine for all of
// them, so such a tunnel (every tunnel between the 200 and the client's
// first bytes, and an idle one that never carried any) parks one goroutine
// instead of two. When the origin's socket turns readable (data, EOF or an
// error), start runs and the copy toward the client begins. Go's own poller
// keeps the socket registered as well; this second, one-shot registration
// only says when to start reading.
type parker struct {
	epfd, wake int

	mu      sync.Mutex
	waiting map[uint64]func()
	next    uint64
	closed  bool
	done    chan struct{}
}

func newParker() (*parker, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	// Token 0 is the wake-up descriptor.
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &unix.EpollEvent{Events: unix.EPOLLIN}); err != nil {
		unix.Close(wake)
		unix.Close(epfd)
		return nil, err
	}
	k := &parker{epfd: epfd, wake: wake, waiting: map[uint64]func(){}, done: make(chan struct{})}
	go k.loop()
	return k, nil
}

func token(ev unix.EpollEvent) uint64 { return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32 }

func (k *parker) loop() {
	defer close(k.done)
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(k.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			t := token(ev)
			if t == 0 {
				return // Close
			}
			k.mu.Lock()
			start := k.waiting[t]
			delete(k.waiting, t)
			k.mu.Unlock()
			if start != nil {
				start()
			}
		}
	}
}

// park calls start once c is readable. cancel withdraws the wait and
// reports whether it did so before start was called (start will then never
// be called); it must be called before c is closed. ok is false when c
// cannot be parked: the caller starts at once.
func (k *parker) park(c syscall.Conn, start func()) (cancel func() bool, ok bool) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, false
	}
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return nil, false
	}
	k.next++
	t := k.next
	k.waiting[t] = start
	k.mu.Unlock()
	var cerr error
	err = rc.Control(func(fd uintptr) {
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT, Fd: int32(uint32(t)), Pad: int32(uint32(t >> 32))}
		cerr = unix.EpollCtl(k.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev)
	})
	if err != nil || cerr != nil {
		k.mu.Lock()
		delete(k.waiting, t)
		k.mu.Unlock()
		return nil, false
	}
	return func() bool {
		k.mu.Lock()
		_, waiting := k.waiting[t]
		delete(k.waiting, t)
		k.mu.Unlock()
		_ = rc.Control(func(fd uintptr) { _ = unix.EpollCtl(k.epfd, unix.EPOLL_CTL_DEL, int(fd), nil) })
		return waiting
	}, true
}

// Close stops the watcher; waits still pending are dropped (their
// tunnels are being closed by the world).
func (k *parker) Close() {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return
	}
	k.closed = true
	k.mu.Unlock()
	one := []byte{1, 0, 0, 0, 0, 0, 0, 0}
	_, _ = unix.Write(k.wake, one)
	<-k.done
	unix.Close(k.wake)
	unix.Close(k.epfd)
}
