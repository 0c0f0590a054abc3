package faults

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// A Fault is one configured failure. Its exported fields are its parameters,
// decoded from a scenario; Validate reports every problem with them, each
// as a *FieldError (joined with errors.Join) so the loader can name the line.
// Every Fault also implements exactly one of the hook interfaces below.
type Fault interface {
	Validate() error
}

// Notify tells the world that a fault acted, with a short human detail
// ("reset after 512 bytes"). It is how firings that happen later than the
// selection (a reset after N bytes) reach the journal.
type Notify func(detail string)

// ConnHook is implemented by tcp.* faults. The world arms the fault on the
// client side of a connection at the fault's phase and uses the returned
// connection from then on. Bytes written to the returned connection travel
// toward the client; the fault shapes, delays, stalls, or cuts them. A fault
// that acts at once (a reset with no byte allowance) may do so inside
// WrapConn. Wrappers must stop blocking when the connection is closed.
type ConnHook interface {
	Fault
	WrapConn(c net.Conn, notify Notify) net.Conn
}

// DNSHook is implemented by dns.* faults: a dns.Handler that may answer
// itself or pass the query on to next. ctx ends when the world shuts down,
// which bounds every delay.
type DNSHook interface {
	Fault
	ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg, next dns.Handler)
}

// TLSEnv is what the world offers a TLS fault: its normal server
// configuration for the host and a way to obtain certificates.
type TLSEnv interface {
	// Base is the configuration the world would use without the fault.
	Base() *tls.Config
	// Certificate returns a leaf for host, shaped by a tls.cert profile
	// ("" for a good certificate).
	Certificate(host, profile string) (*tls.Certificate, error)
}

// TLSHook is implemented by tls.* faults: it returns the server
// configuration for one handshake. Returning an error aborts the handshake.
type TLSHook interface {
	Fault
	ConfigForClient(hello *tls.ClientHelloInfo, env TLSEnv) (*tls.Config, error)
}

// HTTPHook is implemented by http.* faults: an http.Handler that may answer
// itself, change the request, or wrap the ResponseWriter and call next.
// The ResponseWriter supports http.Flusher and http.Hijacker.
type HTTPHook interface {
	Fault
	ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler)
}

// ProxyHook is implemented by proxy.* faults. It runs in front of the
// forward proxy for every request it receives, CONNECT included, before any
// upstream connection is made (proxy authentication, CONNECT refusal).
type ProxyHook interface {
	Fault
	ServeProxy(w http.ResponseWriter, r *http.Request, next http.Handler)
}

// Info describes a registered fault kind.
type Info struct {
	// Kind is "<layer>.<name>": lowercase, the layer one of dns, tcp, tls,
	// http, proxy.
	Kind string
	// Summary is one line for `wufault faults list`.
	Summary string
	// New returns a fresh zero value, without side effects.
	New func() Fault

	// Arm says when the world arms a tcp.* kind (traits.go).
	Arm Arming
	// Unbounded, when set, reports whether a configured fault can wait
	// longer than max (or without end): the world then bounds it at its
	// MaxStall.
	Unbounded func(f Fault, max time.Duration) bool
	// Cures lists the fixes (scenarios' fix ids) that cure the kind, and
	// how.
	Cures map[string]Cure
}

// Layer is the part of the kind before the dot.
func (i Info) Layer() string { l, _, _ := strings.Cut(i.Kind, "."); return l }

var (
	registryMu sync.RWMutex
	registry   = map[string]Info{}
	kindRE     = regexp.MustCompile(`^(dns|tcp|tls|http|proxy)\.[a-z][a-z0-9_]*$`)
)

// Register adds a fault kind. It panics on a malformed or duplicate kind, an
// empty summary or a nil constructor: those are programming errors caught by
// the first test run.
func Register(i Info) {
	if !kindRE.MatchString(i.Kind) {
		panic(fmt.Sprintf("faults: malformed kind %q", i.Kind))
	}
	if i.Summary == "" || i.New == nil {
		panic(fmt.Sprintf("faults: kind %q needs a summary and a constructor", i.Kind))
	}
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[i.Kind]; dup {
		panic(fmt.Sprintf("faults: kind %q registered twice", i.Kind))
	}
	registry[i.Kind] = i
}

// Lookup returns the registered kind.
func Lookup(kind string) (Info, bool) {
	registryMu.RLock()
	defer registryMu.RUnlock()
	i, ok := registry[kind]
	return i, ok
}

// New returns a fresh fault of the given kind.
func New(kind string) (Fault, error) {
	i, ok := Lookup(kind)
	if !ok {
		return nil, fmt.Errorf("unknown fault kind %q", kind)
	}
	return i.New(), nil
}

// Kinds returns every registered kind, sorted.
func Kinds() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	out := make([]string, 0, len(registry))
	for k := range registry {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// All returns the registered kinds' descriptions, sorted by kind.
func All() []Info {
	ks := Kinds()
	out := make([]Info, len(ks))
	for n, k := range ks {
		out[n], _ = Lookup(k)
	}
	return out
}
