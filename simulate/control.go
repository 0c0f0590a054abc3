package simulate

import "errors"

// startControl is replaced by the control service's issue.
func (w *World) startControl(addr string) (service, error) {
	return nil, errors.New("control service not built yet")
}
