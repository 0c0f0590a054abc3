package faults

import (
	"strings"

	"golang.org/x/net/http/httpguts"
)

func validStatus(field string, s int, lo, hi int) error {
	if s < lo || s > hi {
		return fieldErr(field, "must be an HTTP status between %d and %d, got %d", lo, hi, s)
	}
	return nil
}

func validHeaders(field string, h map[string]string) error {
	for k, v := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fieldErr(field, "%q is not a valid header name", k)
		}
		if !httpguts.ValidHeaderFieldValue(v) || strings.ContainsAny(v, "\r\n") {
			return fieldErr(field, "the value of %s is not a valid header value", k)
		}
	}
	return nil
}
