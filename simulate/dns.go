package simulate

import "errors"

// startDNS is replaced by the dns service's issue.
func (w *World) startDNS(addr string) (service, error) {
	return nil, errors.New("dns service not built yet")
}
