package simulate

import "errors"

// startProxy is replaced by the proxy service's issue.
func (w *World) startProxy(addr string) (service, error) {
	return nil, errors.New("proxy service not built yet")
}
