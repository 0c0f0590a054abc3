package faults

import (
	"errors"
	"strings"
)

// HTTPSOAPFault answers a SOAP call with a SOAP fault (WSUS ErrorCode in the detail).
type HTTPSOAPFault struct {
	// Code is the SOAP fault code: server (default) or client.
	Code string `yaml:"code,omitempty" json:"code,omitempty"`
	// ErrorCode is the WSUS ErrorCode in the detail (default InternalServerError).
	ErrorCode string `yaml:"error_code,omitempty" json:"error_code,omitempty"`
	// Status is the HTTP status (default 500).
	Status  int    `yaml:"status,omitempty" json:"status,omitempty"`
	Message string `yaml:"message,omitempty" json:"message,omitempty"`
}

func init() {
	Register(Info{Kind: "http.soap_fault", Summary: "answers a SOAP call with a SOAP fault (WSUS ErrorCode in the detail)", New: func() Fault { return new(HTTPSOAPFault) }})
}

// Validate checks the parameters.
func (f *HTTPSOAPFault) Validate() error {
	var errs []error
	if f.Code != "" {
		errs = append(errs, oneOf("code", f.Code, []string{"server", "client"}))
	}
	if f.Status != 0 {
		errs = append(errs, validStatus("status", f.Status, 200, 599))
	}
	if strings.ContainsAny(f.ErrorCode, "<>& ") {
		errs = append(errs, fieldErr("error_code", "%q is not a WSUS error code name", f.ErrorCode))
	}
	return errors.Join(errs...)
}
