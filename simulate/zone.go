package simulate

import (
	"net"
	"strconv"

	"github.com/wufault/wufault/faults"
)

// LabHosts are the host name patterns of the lab zone: the Windows Update
// names of reference/wu-codes.md 6.1 and 6.2 plus the lab's own names. When
// the world runs the embedded upstream, these resolve to it (DNS) and the
// proxy routes them to it.
var LabHosts = []string{
	"*.update.microsoft.com", "update.microsoft.com",
	"*.windowsupdate.com", "windowsupdate.com",
	"*.windowsupdate.microsoft.com",
	"*.delivery.mp.microsoft.com",
	"*.do.dsp.mp.microsoft.com", "tsfe.trafficshaping.dsp.mp.microsoft.com",
	"emdl.ws.microsoft.com",
	"*.lab", // wsus.lab and other lab names
}

// InLabZone reports whether name (any case, trailing dot or port allowed)
// belongs to the lab zone.
func InLabZone(name string) bool {
	h := faults.NormHost(name)
	for _, p := range LabHosts {
		if faults.Glob(p, h) {
			return true
		}
	}
	return false
}

// emulatorAddr returns where the proxy sends a connection to host:port
// when the embedded upstream serves the lab zone: the emulator's internal
// HTTPS listener for 443, 8531 and the HTTPS port's own port, its internal
// HTTP listener for anything else (internalOrigin: no fault is applied
// twice). ok is false when host is outside the zone or the emulator
// is not running.
func (w *World) emulatorAddr(host string, port int) (addr string, ok bool) {
	if !InLabZone(host) {
		return "", false
	}
	https := false
	switch port {
	case 443, 8531, portOf(w.addr("upstream-https")):
		https = true
	}
	addr = w.internalAddr(https)
	return addr, addr != ""
}

// portOf returns the port of host:port, or -1.
func portOf(hostport string) int {
	_, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		return -1
	}
	return n
}

// emulatorIP is the address lab-zone names resolve to: Options.ZoneIP
// when set, else the emulator's listening IP, or "" when it is not running.
func (w *World) emulatorIP() string {
	if w.opts.ZoneIP != "" {
		return w.opts.ZoneIP
	}
	for _, addr := range []string{w.addr("upstream-http"), w.addr("upstream-https")} {
		if host, _, err := net.SplitHostPort(addr); err == nil {
			return host
		}
	}
	return ""
}
