package faults

import (
	"context"
	"sync"
)

// connKey keys the client connection a request context belongs to.
type connKey struct{}

// connInfo is what WithConnID attaches: the id and a store for values
// that live as long as the connection.
type connInfo struct {
	id   uint64
	mu   sync.Mutex
	vals map[any]any
}

// WithConnID marks ctx as belonging to the client connection id. The proxy
// calls it from http.Server.ConnContext, so that every request on one
// connection carries the same id and shares one store (see [ConnValue]).
// Connection-oriented proxy authentication (NTLM, Negotiate) keeps its
// state there: the server challenge of the exchange in progress and
// whether the connection has authenticated.
func WithConnID(ctx context.Context, id uint64) context.Context {
	return context.WithValue(ctx, connKey{}, &connInfo{id: id})
}

// ConnID returns the id WithConnID attached to ctx.
func ConnID(ctx context.Context) (uint64, bool) {
	if ci, ok := ctx.Value(connKey{}).(*connInfo); ok {
		return ci.id, true
	}
	return 0, false
}

// ConnValue returns the value stored under key for the connection ctx
// belongs to, created by mk on first use. ok is false, and mk is not
// called, when ctx carries no connection. Values are dropped with the
// connection's context when the connection ends.
func ConnValue[T any](ctx context.Context, key any, mk func() T) (v T, ok bool) {
	ci, ok := ctx.Value(connKey{}).(*connInfo)
	if !ok {
		return v, false
	}
	ci.mu.Lock()
	defer ci.mu.Unlock()
	if old, ok := ci.vals[key].(T); ok {
		return old, true
	}
	if ci.vals == nil {
		ci.vals = map[any]any{}
	}
	v = mk()
	ci.vals[key] = v
	return v, true
}
