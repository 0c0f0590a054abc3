//go:build !linux

package simulate

import (
	"errors"
	"syscall"
)

// parker is Linux-only (epoll); elsewhere every tunnel runs two goroutines.
type parker struct{}

func newParker() (*parker, error) { return nil, errors.New("no epoll on this system") }

func (k *parker) park(c syscall.Conn, start func()) (cancel func() bool, ok bool) { return nil, false }

// Close does nothing.
func (k *parker) Close() {}
