package client_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves goroutines behind: sessions close
// their connections, and the worlds and servers the tests start stop.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
