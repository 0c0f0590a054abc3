package observe

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"
	"github.com/wufault/wufault/client/profile"
)

// Flow is one TCP connection of a capture.
type Flow struct {
	ID     int       `json:"id"`
	Client string    `json:"client"`
	Server string    `json:"server"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	// Protocol is what the client spoke: http, tls, http+tls (a CONNECT
	// tunnel), dns, or "" when it sent nothing recognisable.
	Protocol    string `json:"protocol,omitempty"`
	SYNs        int    `json:"syns"`
	SYNACK      bool   `json:"syn_ack"`
	ClientBytes int64  `json:"client_bytes"`
	ServerBytes int64  `json:"server_bytes"`
	// Close is how the connection ended first: "fin" or "rst", or ""
	// when it was still open at the end of the capture.
	Close    string      `json:"close,omitempty"`
	ClosedBy string      `json:"closed_by,omitempty"`
	Connect  string      `json:"connect,omitempty"` // CONNECT target
	HTTP     []*Exchange `json:"http,omitempty"`
	TLS      *TLSInfo    `json:"tls,omitempty"`
	Events   []FlowEvent `json:"events"`
	Findings []Finding   `json:"findings,omitempty"`

	a          *analyzer
	clientDir  reassembly.TCPFlowDirection
	clientEP   netip.AddrPort
	serverEP   netip.AddrPort
	mode       string // "", http, tls, dns, opaque
	c2s, s2c   stream
	resp       respParser
	req        reqParser
	tlsC       tlsDir
	tlsS       tlsDir
	dnsC       dnsStream
	dnsS       dnsStream
	last       time.Time
	lastDir    string // who sent the last payload
	closes     []FlowEvent
	firstSYN   time.Time
	pendingTLS bool // CONNECT sent, waiting for its answer
}

// FlowEvent is a moment of a flow's life: syn, syn-ack, fin, rst, stall.
type FlowEvent struct {
	Time  time.Time `json:"time"`
	Kind  string    `json:"kind"`
	Who   string    `json:"who,omitempty"`
	Phase string    `json:"phase,omitempty"`
	// ServerBytes and ClientBytes are the payload bytes each side had
	// sent before the event.
	ServerBytes int64         `json:"server_bytes"`
	ClientBytes int64         `json:"client_bytes"`
	Gap         time.Duration `json:"gap_ns,omitempty"`
	Detail      string        `json:"detail,omitempty"`
}

// Exchange is one HTTP request and its response on a flow.
type Exchange struct {
	Time          time.Time `json:"time"`
	Method        string    `json:"method"`
	Target        string    `json:"target"`
	Host          string    `json:"host,omitempty"`
	Path          string    `json:"path,omitempty"`
	Status        int       `json:"status,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	StatusTime    time.Time `json:"status_time,omitzero"`
	HeadersDone   bool      `json:"headers_done"`
	ContentLength int64     `json:"content_length"` // -1 when not given
	Chunked       bool      `json:"chunked,omitempty"`
	BodyBytes     int64     `json:"body_bytes"`
	Complete      bool      `json:"complete"`
	ContentType   string    `json:"content_type,omitempty"`
	ProxyAuth     []string  `json:"proxy_authenticate,omitempty"`
	SOAPFault     bool      `json:"soap_fault,omitempty"`
	Malformed     string    `json:"malformed,omitempty"`

	closeDelimited bool
	bodyHead       []byte
}

// stream is one direction's bytes: kept (up to a bound) until parsed.
type stream struct {
	buf   []byte
	total int64
	gap   bool // bytes are missing: parsing stopped
}

type flowFactory struct{ a *analyzer }

func (ff *flowFactory) New(netFlow, tcpFlow gopacket.Flow, tcp *layers.TCP, ac reassembly.AssemblerContext) reassembly.Stream {
	a := ff.a
	src, _ := netip.AddrFromSlice(netFlow.Src().Raw())
	dst, _ := netip.AddrFromSlice(netFlow.Dst().Raw())
	srcEP := netip.AddrPortFrom(src.Unmap(), uint16(tcp.SrcPort))
	dstEP := netip.AddrPortFrom(dst.Unmap(), uint16(tcp.DstPort))
	f := &Flow{ID: len(a.flows) + 1, a: a, Events: []FlowEvent{}}
	// The first packet's direction is reassembly's ClientToServer. The
	// client is whoever sent the first SYN; without one, the side with
	// the higher (ephemeral) port.
	clientIsSrc := true
	switch {
	case tcp.SYN && !tcp.ACK:
	case tcp.SYN && tcp.ACK:
		clientIsSrc = false
	default:
		clientIsSrc = tcp.SrcPort > tcp.DstPort
	}
	if clientIsSrc {
		f.clientDir, f.clientEP, f.serverEP = reassembly.TCPDirClientToServer, srcEP, dstEP
	} else {
		f.clientDir, f.clientEP, f.serverEP = reassembly.TCPDirServerToClient, dstEP, srcEP
	}
	f.Client, f.Server = f.clientEP.String(), f.serverEP.String()
	f.Start = ac.GetCaptureInfo().Timestamp
	if a.dnsPorts[f.serverEP.Port()] {
		f.mode, f.Protocol = "dns", "dns"
	}
	a.flows = append(a.flows, f)
	return f
}

func (f *Flow) who(dir reassembly.TCPFlowDirection) string {
	if dir == f.clientDir {
		return "client"
	}
	return "server"
}

// Accept sees every packet of the flow, in capture order, before its
// payload is reassembled.
func (f *Flow) Accept(tcp *layers.TCP, ci gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, ac reassembly.AssemblerContext) bool {
	*start = true // also follow connections whose SYN was not captured
	ts := ci.Timestamp
	who := f.who(dir)
	if !f.last.IsZero() {
		if gap := ts.Sub(f.last); gap > f.a.o.StallThreshold {
			f.stall(ts, gap, who, tcp)
		}
	}
	ev := FlowEvent{Time: ts, Who: who, ServerBytes: f.s2c.total, ClientBytes: f.c2s.total}
	switch {
	case tcp.SYN && !tcp.ACK:
		if f.SYNs == 0 {
			f.firstSYN = ts
		}
		f.SYNs++
		ev.Kind = "syn"
		if f.SYNs > 1 {
			ev.Detail = "retransmitted"
		}
		f.Events = append(f.Events, ev)
	case tcp.SYN && tcp.ACK:
		if !f.SYNACK {
			ev.Kind = "syn-ack"
			f.Events = append(f.Events, ev)
		}
		f.SYNACK = true
	}
	if tcp.RST || tcp.FIN {
		ev.Kind = "fin"
		if tcp.RST {
			ev.Kind = "rst"
		}
		ev.Phase = f.phase()
		if f.Close == "" {
			f.Close, f.ClosedBy = ev.Kind, who
		}
		f.Events = append(f.Events, ev)
		f.closes = append(f.closes, ev)
	}
	if ts.After(f.End) {
		f.End = ts
	}
	f.last = ts
	return true
}

// stall records a silence longer than the threshold, if the server owed
// the client something at the time (a request unanswered, a body
// unfinished, a handshake unanswered).
func (f *Flow) stall(ts time.Time, gap time.Duration, nextWho string, tcp *layers.TCP) {
	ph := f.phase()
	owed := false
	switch ph {
	case "request", "headers", "body":
		owed = true
	case "handshake", "encrypted":
		owed = f.lastDir == "client"
	}
	if !owed {
		return
	}
	ev := FlowEvent{Time: f.last, Kind: "stall", Phase: ph, Gap: gap, ServerBytes: f.s2c.total, ClientBytes: f.c2s.total}
	ev.Detail = fmt.Sprintf("%s of silence", gap.Round(time.Millisecond))
	if nextWho == "client" && (tcp.RST || tcp.FIN) {
		ev.Detail += ", then the client gave up (" + map[bool]string{true: "RST", false: "FIN"}[tcp.RST] + ")"
	}
	f.Events = append(f.Events, ev)
}

// phase says where the flow stands now, in profile.Phase words.
func (f *Flow) phase() string {
	if f.SYNs > 0 && !f.SYNACK {
		return "connect"
	}
	switch f.mode {
	case "http":
		if f.pendingTLS {
			return "proxy"
		}
		return f.resp.phase(f)
	case "tls":
		if f.TLS != nil && !f.TLS.Complete {
			return "handshake"
		}
		return "encrypted"
	case "":
		if f.c2s.total == 0 && f.s2c.total == 0 {
			return "connect"
		}
	}
	return "idle"
}

// ReassembledSG receives the flow's bytes in order.
func (f *Flow) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	dir, _, _, skip := sg.Info()
	n, _ := sg.Lengths()
	ts := ac.GetCaptureInfo().Timestamp
	who := f.who(dir)
	st := &f.s2c
	if who == "client" {
		st = &f.c2s
	}
	if skip > 0 && !st.gap && st.total > 0 {
		st.gap = true
		f.a.an.Warnings = append(f.a.an.Warnings, fmt.Sprintf("flow %d: %d %s bytes missing from the capture; stopped parsing that direction", f.ID, skip, who))
	}
	if n == 0 {
		return
	}
	data := sg.Fetch(n)
	st.total += int64(n)
	if who == "client" {
		f.ClientBytes = st.total
	} else {
		f.ServerBytes = st.total
	}
	f.lastDir = who
	if st.gap {
		return
	}
	room := f.a.o.MaxStreamBytes - len(st.buf)
	if room < len(data) {
		data = data[:max(room, 0)]
	}
	st.buf = append(st.buf, data...)
	f.parse(who, ts)
}

// ReassemblyComplete keeps the flow in the pool so the packets after a
// FIN (the other side's FIN, a late RST) still reach Accept.
func (f *Flow) ReassemblyComplete(ac reassembly.AssemblerContext) bool { return false }

// parse advances the protocol parsers over the kept bytes.
func (f *Flow) parse(who string, ts time.Time) {
	if f.mode == "" {
		if len(f.c2s.buf) > 0 {
			f.mode = sniffClient(f.c2s.buf)
			switch f.mode {
			case "http":
				f.Protocol = "http"
			case "tls":
				f.Protocol = "tls"
				f.TLS = &TLSInfo{}
			}
		} else if len(f.s2c.buf) >= 5 {
			// The server spoke first. An HTTP-looking reply means HTTP.
			if strings.HasPrefix(string(f.s2c.buf), "HTTP/") {
				f.mode, f.Protocol = "http", "http"
			}
		}
		if f.mode == "" {
			return
		}
	}
	switch f.mode {
	case "http":
		if !f.pendingTLS {
			f.req.parse(f, ts)
		}
		f.resp.parse(f, ts)
		if f.mode == "tls" { // a CONNECT was answered with 2xx
			f.parseTLS(ts)
		}
	case "tls":
		f.parseTLS(ts)
	case "dns":
		f.dnsC.parse(f, &f.c2s, ts, f.clientEP, f.serverEP)
		f.dnsS.parse(f, &f.s2c, ts, f.serverEP, f.clientEP)
	}
}

func (f *Flow) parseTLS(ts time.Time) {
	f.tlsC.parse(f, &f.c2s, "client", ts)
	f.tlsS.parse(f, &f.s2c, "server", ts)
}

// sniffClient tells the protocol from the client's first bytes.
func sniffClient(b []byte) string {
	if len(b) >= 3 && b[0] == 0x16 && b[1] == 3 {
		return "tls"
	}
	i := 0
	for i < len(b) && i < 16 && b[i] >= 'A' && b[i] <= 'Z' {
		i++
	}
	if i >= 3 && i < len(b) && b[i] == ' ' {
		return "http"
	}
	if i == len(b) && len(b) < 16 {
		return "" // not enough bytes yet
	}
	return "opaque"
}

// finish turns the flow's recorded events into findings.
func (f *Flow) finish(captureEnd time.Time) {
	if f.mode == "opaque" && f.Protocol == "" {
		f.Protocol = "opaque"
	}
	host, path := f.hostPath()
	class := profile.ClassOf(host, path)
	add := func(ts time.Time, sig Signature, who, phase string, bytes int64, status int, detail string, ex *Exchange) {
		fd := Finding{Time: ts, Signature: sig, Flow: f.ID, Who: who, Phase: phase, Bytes: bytes, Host: host, Path: path, Class: class, Status: status, Detail: detail}
		if ex != nil {
			fd.Host, fd.Path = firstNonEmpty(ex.Host, host), ex.Path
			fd.Class = profile.ClassOf(fd.Host, fd.Path)
		}
		fd.Prediction = Predict(sig, fd.Class, status, phase)
		f.Findings = append(f.Findings, fd)
	}
	var serverClose, clientClose *FlowEvent
	for i := range f.closes {
		c := &f.closes[i]
		if c.Who == "server" && serverClose == nil {
			serverClose = c
		}
		if c.Who == "client" && clientClose == nil {
			clientClose = c
		}
	}
	serverFirst := serverClose != nil && (clientClose == nil || !clientClose.Time.Before(serverClose.Time))

	// Connection establishment.
	if f.SYNs > 0 && !f.SYNACK {
		switch {
		case serverClose != nil && serverClose.Kind == "rst":
			add(serverClose.Time, SigTCPRefused, "server", "connect", 0, 0, "SYN answered by RST (connection refused)", nil)
		case f.SYNs > 1 || captureEnd.Sub(f.firstSYN) > f.a.o.StallThreshold:
			add(f.firstSYN, SigTCPSYNTimeout, "", "connect", 0, 0, fmt.Sprintf("%d SYN(s) never answered", f.SYNs), nil)
		}
		return
	}

	// HTTP statuses and malformed replies.
	for _, ex := range f.HTTP {
		switch {
		case ex.Malformed != "":
			add(firstTime(ex.StatusTime, ex.Time), SigHTTPMalformed, "server", "headers", 0, 0, "reply is not HTTP: "+ex.Malformed, ex)
		case ex.Status == 407:
			add(ex.StatusTime, SigProxyAuth, "server", "proxy", 0, 407, "407 "+ex.Reason+proxyAuthDetail(ex), ex)
		case ex.Method == "CONNECT" && ex.Status >= 300:
			add(ex.StatusTime, SigProxyDenied, "server", "proxy", 0, ex.Status, fmt.Sprintf("CONNECT %s answered %d %s", ex.Target, ex.Status, ex.Reason), ex)
		case ex.SOAPFault && (ex.Status >= 400 || ex.Status == 200):
			add(ex.StatusTime, SigHTTPSOAPFault, "server", "body", 0, ex.Status, fmt.Sprintf("%d %s with a SOAP Fault body", ex.Status, ex.Reason), ex)
		case ex.Status >= 400:
			add(ex.StatusTime, SigHTTPStatus, "server", "headers", 0, ex.Status, fmt.Sprintf("%d %s", ex.Status, ex.Reason), ex)
		}
	}

	// TLS alerts and certificate requests.
	if t := f.TLS; t != nil {
		for _, al := range t.Alerts {
			if al.Level != "fatal" || al.Encrypted {
				continue
			}
			if al.From == "server" {
				add(al.Time, SigTLSAlert, "server", "handshake", 0, 0, fmt.Sprintf("fatal alert %s (%d) from the server at stage %s", al.Description, al.Code, al.Stage), nil)
			} else {
				add(al.Time, SigTLSClientAlert, "client", "handshake", 0, 0, fmt.Sprintf("fatal alert %s (%d) from the client at stage %s: it rejected the server", al.Description, al.Code, al.Stage), nil)
			}
		}
		if t.tls13 && !t.Complete && !serverFirst && clientClose != nil && f.tlsC.appData == 1 {
			add(clientClose.Time, SigTLSClientAlert, "client", "handshake", clientClose.ServerBytes, 0,
				"the client ended the TLS 1.3 handshake after one encrypted record (an alert, description encrypted): it rejected the server", nil)
			if p := f.Findings[len(f.Findings)-1].Prediction; p != nil {
				p.Confidence = profile.Medium // the alert itself is not readable
			}
		}
		if t.CertRequest {
			add(t.certRequestTime, SigTLSCertRequest, "server", "handshake", 0, 0, "server sent CertificateRequest (asks for a client certificate)", nil)
		}
	}

	// Stalls.
	for _, ev := range f.Events {
		if ev.Kind == "stall" {
			add(ev.Time, SigStall, "server", ev.Phase, ev.ServerBytes, 0, fmt.Sprintf("server silent in phase %s after %d bytes: %s", ev.Phase, ev.ServerBytes, ev.Detail), f.exchangeAt(ev.Time))
		}
	}

	// How the connection ended.
	if serverFirst {
		c := serverClose
		kind := strings.ToUpper(c.Kind)
		ex := f.openExchange()
		switch {
		case f.TLS != nil && f.TLS.sawClientHello && !f.TLS.sawServerHello && !f.alerted():
			add(c.Time, SigTLSReset, "server", "handshake", c.ServerBytes, 0, kind+" from the server right after the ClientHello", nil)
		case c.Kind == "rst" && !f.alerted():
			add(c.Time, SigTCPReset, "server", c.Phase, c.ServerBytes, statusOf(ex), fmt.Sprintf("RST from the server after %d bytes, %s", c.ServerBytes, phaseWords(c.Phase, ex)), ex)
		case c.Kind == "fin" && ex != nil && ex.Status == 0 && ex.Malformed == "":
			ph := "request"
			if len(f.s2c.buf) > 0 && c.ServerBytes > 0 {
				ph = "headers"
			}
			add(c.Time, SigTCPFINNoResponse, "server", ph, c.ServerBytes, 0, fmt.Sprintf("FIN from the server after %d bytes, before a complete response to %s %s", c.ServerBytes, ex.Method, ex.Target), ex)
		case c.Kind == "fin" && ex != nil && ex.HeadersDone && !ex.Complete && !ex.closeDelimited:
			add(c.Time, SigTCPFINMidBody, "server", "body", c.ServerBytes, ex.Status, fmt.Sprintf("FIN from the server mid-body: %s", bodyWords(ex)), ex)
		case c.Kind == "fin" && f.mode == "" && f.ClientBytes > 0 && f.ServerBytes == 0:
			add(c.Time, SigTCPFINNoResponse, "server", "request", 0, 0, "FIN from the server before any answer", nil)
		}
	} else if clientClose != nil && clientClose.Kind == "rst" {
		ph := clientClose.Phase
		if ph != "idle" && ph != "encrypted" && ph != "connect" {
			add(clientClose.Time, SigTCPClientReset, "client", ph, clientClose.ServerBytes, 0, fmt.Sprintf("RST from the client in phase %s after %d server bytes (it gave up or cancelled)", ph, clientClose.ServerBytes), f.openExchange())
		}
	}
}

func (f *Flow) alerted() bool {
	if f.TLS == nil {
		return false
	}
	for _, a := range f.TLS.Alerts {
		if a.Level == "fatal" && !a.Encrypted {
			return true
		}
	}
	return false
}

// hostPath is the flow's best name: the first request's Host and path,
// the CONNECT target or the SNI.
func (f *Flow) hostPath() (string, string) {
	host, path := "", ""
	for _, ex := range f.HTTP {
		if ex.Method == "CONNECT" {
			continue
		}
		host, path = ex.Host, ex.Path
		break
	}
	if host == "" && f.Connect != "" {
		host = f.Connect
	}
	if host == "" && f.TLS != nil {
		host = f.TLS.SNI
	}
	return host, path
}

// openExchange is the first exchange not answered completely, else the
// last one.
func (f *Flow) openExchange() *Exchange {
	for _, ex := range f.HTTP {
		if !ex.Complete {
			return ex
		}
	}
	if n := len(f.HTTP); n > 0 {
		return f.HTTP[n-1]
	}
	return nil
}

func (f *Flow) exchangeAt(ts time.Time) *Exchange {
	var last *Exchange
	for _, ex := range f.HTTP {
		if !ex.Time.After(ts) {
			last = ex
		}
	}
	return last
}

func statusOf(ex *Exchange) int {
	if ex == nil {
		return 0
	}
	return ex.Status
}

func phaseWords(ph string, ex *Exchange) string {
	switch ph {
	case "request":
		return "before the response (request sent, nothing answered)"
	case "headers":
		return "inside the response headers"
	case "body":
		if ex != nil {
			return "after the response headers, mid-body (" + bodyWords(ex) + ")"
		}
		return "after the response headers, mid-body"
	case "idle":
		return "on an idle connection (every response complete)"
	case "connect":
		return "right after the TCP handshake, before any data"
	case "handshake":
		return "during the TLS handshake"
	case "encrypted":
		return "inside the TLS session"
	case "proxy":
		return "while the client waited for the CONNECT answer"
	}
	return "in phase " + ph
}

func bodyWords(ex *Exchange) string {
	switch {
	case ex.ContentLength >= 0:
		return fmt.Sprintf("%d of %d body bytes", ex.BodyBytes, ex.ContentLength)
	case ex.Chunked:
		return fmt.Sprintf("%d chunked body bytes, no last chunk", ex.BodyBytes)
	}
	return fmt.Sprintf("%d body bytes", ex.BodyBytes)
}

func proxyAuthDetail(ex *Exchange) string {
	if len(ex.ProxyAuth) == 0 {
		return ""
	}
	return " (Proxy-Authenticate: " + strings.Join(ex.ProxyAuth, ", ") + ")"
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func firstTime(t ...time.Time) time.Time {
	for _, v := range t {
		if !v.IsZero() {
			return v
		}
	}
	return time.Time{}
}
