package simulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/wufault/wufault/faults"
)

// The proxy's destination policy: wufault is not a way into the machine it
// runs on. The proxy never carries a client's traffic to the world's own
// listeners (control API, DNS, upstream ports, the proxy itself), and by
// default not to loopback, link-local or unspecified addresses either,
// except those the active scenario names (a dns.answer address, say) and
// those Options.AllowUpstream lists. The world's own routes are exempt:
// lab-zone names reach the embedded emulator, and the parent proxy is
// reached wherever it is.
//
// The check runs twice: on the target a client names (an IP literal or a
// localhost name, before any dial or parent proxy sees it) and in the
// dialer's Control hook on the address actually dialed, after DNS (a name
// that resolves to loopback is refused as well; no rebinding window).

// destRefused is a destination the policy turns away.
type destRefused struct {
	addr   string
	reason string
}

func (e *destRefused) Error() string {
	return fmt.Sprintf("destination %s refused: %s", e.addr, e.reason)
}

// page is the 403 page a client gets.
func (e *destRefused) page() string {
	return faults.HTMLPage(http.StatusForbidden, "wufault does not carry traffic to "+e.addr+": "+e.reason)
}

// worldRouteKey marks a dial the world itself chose (the emulator, the
// parent proxy): the policy does not apply to it.
type worldRouteKey struct{}

func worldRoute(ctx context.Context) context.Context {
	return context.WithValue(ctx, worldRouteKey{}, true)
}

// controlDial is the upstream dialer's Control hook.
func (u *upstream) controlDial(ctx context.Context, _, address string, _ syscall.RawConn) error {
	if ctx.Value(worldRouteKey{}) != nil {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &destRefused{addr: address, reason: "not an IP address and port"}
	}
	return u.w.destinationAllowed(ap)
}

// checkTarget applies the policy to the host:port a client names, before
// routing: a literal address, or a localhost name. Names in the lab zone
// go to the emulator and pass.
func (u *upstream) checkTarget(hostport string) error {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, "0"
	}
	if _, routed := u.w.emulatorAddr(host, portOf(net.JoinHostPort(host, port))); routed {
		return nil
	}
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return &destRefused{addr: hostport, reason: "a loopback name (--allow-upstream does not apply to names; use an address)"}
	}
	ip, err := netip.ParseAddr(strings.Trim(host, "[]"))
	if err != nil {
		return nil // a name: the dialer checks what it resolves to
	}
	ap := netip.AddrPortFrom(ip, uint16(max(portOf(net.JoinHostPort(host, port)), 0)))
	return u.w.destinationAllowed(ap)
}

// destinationAllowed is the policy for one address.
func (w *World) destinationAllowed(ap netip.AddrPort) error {
	ip := ap.Addr().Unmap()
	if name, own := w.ownListener(netip.AddrPortFrom(ip, ap.Port())); own {
		return &destRefused{addr: ap.String(), reason: "it is this world's own " + name}
	}
	if !(ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsInterfaceLocalMulticast() || ip.IsUnspecified()) {
		return nil
	}
	for _, p := range w.opts.AllowUpstream {
		if p.Contains(ip) {
			return nil
		}
	}
	if w.fleet.names(ip) {
		return nil
	}
	return &destRefused{addr: ap.String(), reason: "loopback and link-local destinations need --allow-upstream"}
}

// ownListener reports whether ap reaches one of the world's listeners: the
// same address, or the same port of a listener bound to every address.
func (w *World) ownListener(ap netip.AddrPort) (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for name, s := range w.services {
		addrs := []string{s.Addr()}
		if o, ok := s.(*internalOrigin); ok {
			addrs = o.addrs()
		}
		for _, a := range addrs {
			l, err := netip.ParseAddrPort(a)
			if err != nil || l.Port() != ap.Port() {
				continue
			}
			lip := l.Addr().Unmap()
			if lip == ap.Addr() || (lip.IsUnspecified() && isLocalAddr(ap.Addr())) ||
				(ap.Addr().IsUnspecified() && (lip.IsLoopback() || lip.IsUnspecified())) {
				return name, true
			}
		}
	}
	return "", false
}

// localAddrs are the machine's own interface addresses.
var localAddrs = sync.OnceValue(func() []netip.Addr {
	var out []netip.Addr
	as, _ := net.InterfaceAddrs()
	for _, a := range as {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
})

func isLocalAddr(ip netip.Addr) bool {
	if ip.IsLoopback() || ip.IsUnspecified() {
		return true
	}
	for _, a := range localAddrs() {
		if a == ip {
			return true
		}
	}
	return false
}

// namedAddrs collects the IP addresses a fault list names in its
// parameters (a dns.answer's address): the destinations the scenario
// itself asks the lab to reach. Parameters are read by reflection, so no
// fault type is special here.
func namedAddrs(specs []faults.Spec) []netip.Addr {
	var out []netip.Addr
	var walk func(v reflect.Value, depth int)
	walk = func(v reflect.Value, depth int) {
		if depth > 6 {
			return
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Interface:
			if !v.IsNil() {
				walk(v.Elem(), depth+1)
			}
		case reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i), depth+1)
				}
			}
		case reflect.Slice, reflect.Array:
			for i := range min(v.Len(), 64) {
				walk(v.Index(i), depth+1)
			}
		case reflect.String:
			if ip, err := netip.ParseAddr(v.String()); err == nil {
				out = append(out, ip.Unmap())
			}
		}
	}
	for _, sp := range specs {
		if sp.Fault != nil {
			walk(reflect.ValueOf(sp.Fault), 0)
		}
	}
	return out
}

// refusePage answers a refused destination: 403 with a page saying why,
// counted; it returns the journal's detail.
func (w *World) refusePage(rw http.ResponseWriter, err *destRefused) string {
	w.metrics.refused.Inc()
	page := err.page()
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Content-Length", strconv.Itoa(len(page)))
	rw.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(rw, page)
	return "refused: " + err.Error()
}

// asRefused unwraps a policy refusal from a dial error.
func asRefused(err error) (*destRefused, bool) {
	var r *destRefused
	ok := errors.As(err, &r)
	return r, ok
}
