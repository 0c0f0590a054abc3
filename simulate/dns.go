package simulate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// DNS answers of the lab zone and the limits of the DNS service.
const (
	// LabTTL is the TTL of lab-zone answers and the negative TTL of their
	// NODATA answers: short, so a lab that changes its emulator recovers.
	LabTTL = 60
	// dnsForwardTimeout bounds one exchange with one configured resolver.
	dnsForwardTimeout = 2 * time.Second
	// dnsShutdownTimeout bounds Close: handlers end at once when the
	// world's context ends, so waiting longer means something is stuck.
	dnsShutdownTimeout = 10 * time.Second
	// dnsRouteCacheMax bounds the cache of source addresses per client.
	dnsRouteCacheMax = 1024
)

// dnsService is the world's DNS server: UDP and TCP on one port, answering
// the lab zone itself, forwarding other names to the configured resolvers,
// and running the active dns.* faults in front of both.
//
// Per query it asks the active fault set which dns rules fire
// (faults.Set.SelectDNS: host glob, qtypes, when), chains their hooks in
// scenario order in front of the zone (each hook may answer or pass on to
// the next), and journals the query and every hook it ran.
type dnsService struct {
	w        *World
	log      *slog.Logger
	ctx      context.Context // ends at Close or when the world closes
	cancel   context.CancelFunc
	maxStall time.Duration

	// allow decides whether a client gets answers (w.clientAllowed, with a
	// fast path for loopback and this host). Clients it refuses get nothing.
	allow func(netip.Addr) bool
	// self is the address the service is bound to: queries from it come
	// from this host (the world's proxy resolving through its own DNS).
	self netip.Addr

	resolvers []string
	udpClient *dns.Client
	tcpClient *dns.Client

	zones   []labZone                  // the lab zone's patterns and apexes
	base    dns.Handler                // the zone and forwarder, the end of every chain
	details [2]map[uint16]string       // "A udp", "AAAA tcp", … by transport
	lab     atomic.Pointer[netip.Addr] // the emulator's address, once known
	pool    sync.Pool                  // *dnsExchange
	replies sync.Pool                  // *labReply
	routeMu sync.Mutex                 // guards routes
	routes  map[netip.Addr]netip.Addr  // client → our source address toward it
	// counters caches the fired and acted counters by fault kind.
	counters sync.Map

	addr     string
	udp, tcp *dns.Server
	udpLoop  *udpServer // instead of udp on a socket bound to one address
	exited   chan error // one value per server when its serve loop returns
	once     sync.Once
	closeErr error
}

// labZone is one pattern of LabHosts with the apex its SOA names.
type labZone struct {
	pattern string // lowercase glob
	apex    string // FQDN
}

// newDNSService prepares the service without opening sockets.
func newDNSService(w *World) *dnsService {
	ctx, cancel := context.WithCancel(w.ctx)
	s := &dnsService{
		w:         w,
		log:       w.log.With("service", "dns"),
		ctx:       ctx,
		cancel:    cancel,
		maxStall:  w.opts.MaxStall,
		resolvers: w.opts.Resolvers,
		udpClient: &dns.Client{Net: "udp", UDPSize: dns.DefaultMsgSize},
		tcpClient: &dns.Client{Net: "tcp"},
		routes:    map[netip.Addr]netip.Addr{},
		exited:    make(chan error, 2),
	}
	s.allow = s.allowed
	s.base = dns.HandlerFunc(s.answer)
	s.pool.New = func() any { return new(dnsExchange) }
	s.replies.New = func() any { return new(labReply) }
	for _, p := range LabHosts {
		p = strings.ToLower(p)
		s.zones = append(s.zones, labZone{pattern: p, apex: dns.Fqdn(strings.TrimPrefix(p, "*."))})
	}
	for n, network := range []string{"udp", "tcp"} {
		s.details[n] = make(map[uint16]string, len(dns.TypeToString))
		for t, name := range dns.TypeToString {
			s.details[n][t] = name + " " + network
		}
	}
	return s
}

// startDNS serves DNS on addr, UDP and TCP on the same port, and returns
// once both accept queries.
func (w *World) startDNS(addr string) (service, error) {
	s := newDNSService(w)
	if err := s.start(addr); err != nil {
		return nil, err
	}
	return s, nil
}

// start binds addr (TCP first, then UDP on the port TCP got) and serves.
func (s *dnsService) start(addr string) error {
	l, pc, err := listenDNS(addr)
	if err != nil {
		s.cancel()
		return err
	}
	s.addr = l.Addr().String()
	s.self = addrIP(l.Addr())
	reader := func(r dns.Reader) dns.Reader { return allowReader{Reader: r, s: s} }
	udpUp, tcpUp := make(chan struct{}), make(chan struct{})
	uc, isUDP := pc.(*net.UDPConn)
	if ip := addrIP(pc.LocalAddr()); isUDP && ip.IsValid() && !ip.IsUnspecified() {
		// Bound to one address, answers leave from it anyway: reading
		// workers with plain recvfrom and sendto (udpServer).
		s.udpLoop = newUDPServer(s, uc)
		s.udpLoop.serve(func() { s.exited <- nil })
		close(udpUp)
	} else {
		s.udp = &dns.Server{
			PacketConn:        pc,
			Handler:           s,
			UDPSize:           dnsMaxQuery,
			DecorateReader:    reader,
			NotifyStartedFunc: func() { close(udpUp) },
		}
		go func() { s.exited <- s.udp.ActivateAndServe() }()
	}
	s.tcp = &dns.Server{
		Listener:          l,
		Handler:           s,
		DecorateReader:    reader,
		NotifyStartedFunc: func() { close(tcpUp) },
	}
	go func() { s.exited <- s.tcp.ActivateAndServe() }()
	for _, up := range []chan struct{}{udpUp, tcpUp} {
		select {
		case <-up:
		case err := <-s.exited:
			// One loop failed before it started: stop the other.
			s.exited <- err
			s.Close()
			return fmt.Errorf("dns server on %s: %w", s.addr, errors.Join(err, errors.New("did not start")))
		}
	}
	return nil
}

// listenDNS opens the TCP listener and a UDP socket on the same port. With
// port 0 the kernel picks the TCP port; if that port is taken for UDP it
// tries again with a fresh one.
func listenDNS(addr string) (net.Listener, net.PacketConn, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns address %q: %w", addr, err)
	}
	tries := 1
	if port == "0" {
		tries = 10
	}
	var lastErr error
	for range tries {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dns tcp listen: %w", err)
		}
		pc, err := net.ListenPacket("udp", l.Addr().String())
		if err == nil {
			return l, pc, nil
		}
		l.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("dns udp listen: %w", lastErr)
}

// Addr is the address both transports listen on.
func (s *dnsService) Addr() string { return s.addr }

// Close ends every delay in flight, stops both servers and waits for them
// and their handlers.
func (s *dnsService) Close() error {
	s.once.Do(func() {
		s.cancel()
		ctx, cancel := context.WithTimeout(context.Background(), dnsShutdownTimeout)
		defer cancel()
		var errs []error
		if s.udpLoop != nil {
			if err := s.udpLoop.close(); err != nil {
				errs = append(errs, fmt.Errorf("dns shutdown: %w", err))
			}
		}
		for _, srv := range []*dns.Server{s.udp, s.tcp} {
			if srv == nil {
				continue
			}
			if err := srv.ShutdownContext(ctx); err != nil && !isNotStarted(err) {
				errs = append(errs, fmt.Errorf("dns shutdown: %w", err))
			}
		}
		for range 2 {
			select {
			case err := <-s.exited:
				if err != nil {
					errs = append(errs, fmt.Errorf("dns serve: %w", err))
				}
			case <-ctx.Done():
				errs = append(errs, fmt.Errorf("dns shutdown: %w", ctx.Err()))
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// isNotStarted reports miekg's error for shutting down a server whose loop
// already ended (it failed to start).
func isNotStarted(err error) bool { return strings.Contains(err.Error(), "server not started") }

// dnsMaxQuery is the largest query served; larger ones are dropped
// unparsed. A UDP read fills the whole buffer only when the datagram was
// at least that big (the rest was cut off), and no real query comes near.
const dnsMaxQuery = dns.DefaultMsgSize

// allowReader drops what clients the world does not serve send, before it
// is even parsed: UDP packets are skipped, TCP connections end at their
// first message. Each refusal is journaled. It also drops oversized
// queries (a UDP packet is skipped, a TCP connection ends).
type allowReader struct {
	dns.Reader
	s *dnsService
}

// ReadUDP returns the next packet from an allowed client.
func (a allowReader) ReadUDP(conn *net.UDPConn, timeout time.Duration) ([]byte, *dns.SessionUDP, error) {
	for {
		m, sess, err := a.Reader.ReadUDP(conn, timeout)
		switch {
		case err != nil:
			return m, sess, err
		case !a.s.allow(addrIP(sess.RemoteAddr())):
			a.s.refuse(sess.RemoteAddr())
		case len(m) < dnsMaxQuery:
			return m, sess, nil
		}
	}
}

// ReadTCP returns the next message of an allowed client's connection.
func (a allowReader) ReadTCP(conn net.Conn, timeout time.Duration) ([]byte, error) {
	if !a.s.allow(addrIP(conn.RemoteAddr())) {
		a.s.refuse(conn.RemoteAddr())
		return nil, errClientNotAllowed
	}
	m, err := a.Reader.ReadTCP(conn, timeout)
	if err == nil && len(m) >= dnsMaxQuery {
		return nil, errQueryTooLarge
	}
	return m, err
}

var (
	errClientNotAllowed = errors.New("client not allowed")
	errQueryTooLarge    = errors.New("query too large")
)

// refuse journals a dropped query of a client outside the allow-list.
func (s *dnsService) refuse(remote net.Addr) {
	s.w.metrics.conns.WithLabelValues("dns", "denied").Inc()
	s.w.journal.Add(Event{Kind: EventDNSQuery, Service: "dns", Client: addrString(remote), Detail: "client not allowed, dropped"})
}

// allowed is w.clientAllowed, without its parsing for loopback clients
// (a net.Addr is made only for the others), and also admitting this
// host's own queries to a service bound to a non-loopback address (their
// source is that address).
func (s *dnsService) allowed(ip netip.Addr) bool {
	if ip.IsLoopback() || (ip.IsValid() && ip == s.self && !ip.IsUnspecified()) {
		return true
	}
	return s.w.clientAllowed(net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
}

// dnsExchange is one query in flight: the ResponseWriter every hook and
// the zone write through, recording what was sent for the journal. It is
// pooled: valid only until ServeDNS returns (hooks answer synchronously).
type dnsExchange struct {
	dns.ResponseWriter
	s      *dnsService
	start  time.Time
	client string // the client's address, for the journal
	scen   string // the scenario whose rules fired on the query
	host   string // lowercase, no trailing dot
	qtype  string // "A", "AAAA", …
	qt     uint16
	tcp    bool
	wrote  bool
	rcode  int
	trunc  bool
}

// willWait tells the transport that the query is about to wait (see
// udpServer).
func (x *dnsExchange) willWait() {
	if wt, ok := x.ResponseWriter.(waiter); ok {
		wt.willWait()
	}
}

// WriteMsg sends m and notes its rcode.
func (x *dnsExchange) WriteMsg(m *dns.Msg) error {
	x.wrote, x.rcode, x.trunc = true, m.Rcode, m.Truncated
	return x.ResponseWriter.WriteMsg(m)
}

// Write sends a packed message and notes its rcode from the header.
func (x *dnsExchange) Write(b []byte) (int, error) {
	if len(b) >= 4 {
		x.wrote, x.rcode, x.trunc = true, int(b[3]&0xf), b[2]&0x2 != 0
	}
	return x.ResponseWriter.Write(b)
}

// ServeDNS answers one query: it is the dns.Handler of both servers.
func (s *dnsService) ServeDNS(rw dns.ResponseWriter, r *dns.Msg) {
	x := s.pool.Get().(*dnsExchange)
	*x = dnsExchange{ResponseWriter: rw, s: s, start: time.Now(), client: addrString(rw.RemoteAddr()), tcp: rw.LocalAddr().Network() == "tcp"}
	defer func() {
		if v := recover(); v != nil {
			// A hook's bug must not take the server down with it.
			s.log.Error("dns handler panic", "panic", v, "host", x.host)
			s.w.journal.Add(Event{Kind: EventError, Service: "dns", Client: x.client, Host: x.host, Detail: fmt.Sprintf("handler panic: %v", v)})
			if !x.wrote {
				faults.DNSRcode(x, r, dns.RcodeServerFailure)
			}
		}
		s.record(x)
		*x = dnsExchange{}
		s.pool.Put(x)
	}()
	s.serve(x, r)
}

// serve checks the query, selects the faults that fire on it and runs them
// in front of the zone.
func (s *dnsService) serve(x *dnsExchange, r *dns.Msg) {
	if r.Response {
		return // never answer an answer
	}
	if rcode := checkQuery(r); rcode != dns.RcodeSuccess {
		if len(r.Question) == 1 {
			x.host, x.qt, x.qtype = normName(r.Question[0].Name), r.Question[0].Qtype, qtypeString(r.Question[0].Qtype)
		}
		faults.DNSRcode(x, r, rcode)
		return
	}
	q := r.Question[0]
	x.host, x.qt, x.qtype = normName(q.Name), q.Qtype, qtypeString(q.Qtype)
	act := s.w.activeForNet(x.ResponseWriter.RemoteAddr())
	rules := act.Set.SelectDNS(faults.Target{Host: x.host, QType: x.qtype})
	if len(rules) == 0 {
		s.answer(x, r)
		return
	}
	ctx := &stallCtx{Context: s.ctx, deadline: x.start.Add(s.maxStall), onWait: x.willWait}
	defer ctx.stop()
	h := s.base
	for i := len(rules) - 1; i >= 0; i-- {
		hook := rules[i].Fault.(faults.DNSHook) // SelectDNS returns only DNSHooks
		h = &dnsLink{x: x, rule: rules[i], hook: hook, ctx: ctx, next: h}
	}
	x.scen = act.Name
	h.ServeDNS(x, r)
}

// stallCtx is the context hooks get: the service's, bounded by the
// world's MaxStall from the query's arrival. Most hooks answer at once and
// never look at it, so the timer behind the bound is made only when a hook
// first asks for Done or Err (a per-query context.WithTimeout was a sixth
// of the cost of a fault answer).
type stallCtx struct {
	context.Context // the service's: ends at shutdown
	deadline        time.Time
	onWait          func() // called once, when a hook first waits on it

	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
}

func (c *stallCtx) bounded() context.Context {
	c.once.Do(func() {
		if c.onWait != nil {
			c.onWait() // a hook waits on this context: free the reading worker
		}
		c.ctx, c.cancel = context.WithDeadline(c.Context, c.deadline)
	})
	return c.ctx
}

// Deadline is the MaxStall bound (or the service's, if earlier).
func (c *stallCtx) Deadline() (time.Time, bool) { return c.bounded().Deadline() }

// Done closes at the bound or at shutdown.
func (c *stallCtx) Done() <-chan struct{} { return c.bounded().Done() }

// Err is context.DeadlineExceeded past the bound, context.Canceled after
// shutdown.
func (c *stallCtx) Err() error { return c.bounded().Err() }

// stop releases the timer, if one was made.
func (c *stallCtx) stop() {
	c.once.Do(func() {})
	if c.cancel != nil {
		c.cancel()
	}
}

// checkQuery returns the rcode for a query the server does not serve, or
// RcodeSuccess for one it does: exactly one question, opcode QUERY, class
// IN, a question type (not a meta type), EDNS version 0. Other classes
// (CHAOS, HESIOD, ANY) and zone transfers are REFUSED: a policy, not a
// malformed message.
func checkQuery(r *dns.Msg) int {
	if r.Opcode != dns.OpcodeQuery {
		return dns.RcodeNotImplemented
	}
	if len(r.Question) != 1 {
		return dns.RcodeFormatError
	}
	if opt := r.IsEdns0(); opt != nil && opt.Version() != 0 {
		return dns.RcodeBadVers
	}
	q := r.Question[0]
	switch q.Qtype {
	case dns.TypeNone, dns.TypeOPT, dns.TypeTKEY, dns.TypeTSIG:
		return dns.RcodeFormatError
	case dns.TypeAXFR, dns.TypeIXFR:
		return dns.RcodeRefused
	}
	if q.Qclass != dns.ClassINET {
		return dns.RcodeRefused
	}
	return dns.RcodeSuccess
}

// dnsLink runs one fired rule's hook with the rest of the chain as next,
// journaling the firing.
type dnsLink struct {
	x    *dnsExchange
	rule *faults.Rule
	hook faults.DNSHook
	ctx  context.Context
	next dns.Handler
}

// ServeDNS journals the firing and runs the hook.
func (l *dnsLink) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	x := l.x
	x.s.countFiring(l.rule.Kind)
	x.s.w.journal.Add(Event{
		Kind: EventFault, Scenario: x.scen, Service: "dns", Client: x.client, Host: x.host,
		Phase: profile.PhaseResolve, Fault: l.rule.Kind, Rule: l.rule.Index + 1, Detail: x.qtype,
	})
	l.hook.ServeDNS(l.ctx, w, r, l.next)
}

// countFiring counts a dns hook run in the world's metrics (a dns rule
// acts when it fires). The counters are kept per kind, sparing the label
// lookup on every firing.
func (s *dnsService) countFiring(kind string) {
	c, ok := s.counters.Load(kind)
	if !ok {
		c, _ = s.counters.LoadOrStore(kind, &[2]prometheus.Counter{
			s.w.metrics.fired.WithLabelValues(kind), s.w.metrics.acted.WithLabelValues(kind),
		})
	}
	for _, m := range c.(*[2]prometheus.Counter) {
		m.Inc()
	}
}

// record journals the query with what was answered.
func (s *dnsService) record(x *dnsExchange) {
	if x.ResponseWriter == nil {
		return
	}
	e := Event{
		Kind: EventDNSQuery, Service: "dns", Client: x.client, Host: x.host,
		Duration: time.Since(x.start),
	}
	t := 0
	if x.tcp {
		t = 1
	}
	q, ok := s.details[t][x.qt]
	if !ok || x.qtype == "" {
		q = strings.TrimSpace(x.qtype + " " + [2]string{"udp", "tcp"}[t])
	}
	switch {
	case !x.wrote:
		e.Detail = q + " no answer"
	case x.trunc:
		e.Detail = q + " TC"
	default:
		e.Detail = q
	}
	if x.wrote {
		e.Rcode = dns.RcodeToString[x.rcode]
		if e.Rcode == "" {
			e.Rcode = fmt.Sprintf("RCODE%d", x.rcode)
		}
	}
	s.w.metrics.dnsQueries.WithLabelValues([2]string{"udp", "tcp"}[t], cmp.Or(e.Rcode, "none")).Inc()
	s.w.journal.Add(e)
}

// answer is the end of every chain: the lab zone if the name is in it and
// the emulator runs, otherwise the configured resolvers.
func (s *dnsService) answer(w dns.ResponseWriter, r *dns.Msg) {
	q := r.Question[0]
	if apex, ok := s.zoneOf(q.Name); ok {
		if ip, ok := s.emulator(w); ok {
			s.answerLab(w, r, apex, ip)
			return
		}
	}
	s.forward(w, r)
}

// answerLab answers authoritatively for a lab-zone name: the emulator's
// address as A or AAAA by its family, NODATA with the zone's SOA for every
// other type.
func (s *dnsService) answerLab(w dns.ResponseWriter, r *dns.Msg, apex string, ip netip.Addr) {
	q := r.Question[0]
	lr := s.replies.Get().(*labReply)
	defer s.replies.Put(lr)
	m := faults.FillReply(&lr.m, r, &lr.opt)
	m.Authoritative = true
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: LabTTL}
	var rr dns.RR
	if ip.Is4() {
		hdr.Rrtype = dns.TypeA
		a := ip.As4()
		lr.a = dns.A{Hdr: hdr, A: append(lr.a.A[:0], a[:]...)}
		rr = &lr.a
	} else {
		hdr.Rrtype = dns.TypeAAAA
		a := ip.As16()
		lr.aaaa = dns.AAAA{Hdr: hdr, AAAA: append(lr.aaaa.AAAA[:0], a[:]...)}
		rr = &lr.aaaa
	}
	if q.Qtype == hdr.Rrtype || q.Qtype == dns.TypeANY {
		lr.rr[0] = rr
		m.Answer = lr.rr[:]
	} else {
		m.Ns = []dns.RR{faults.SOA(apex, LabTTL)}
	}
	_ = w.WriteMsg(m) // packed before it returns: lr can go back to the pool
}

// labReply is the reusable memory of one lab answer (pooled: a lab
// answer is the common case, and each of these was an allocation per
// query).
type labReply struct {
	m    dns.Msg
	opt  dns.OPT
	a    dns.A
	aaaa dns.AAAA
	rr   [1]dns.RR
}

// zoneOf returns the apex of the lab zone pattern name falls under.
func (s *dnsService) zoneOf(name string) (string, bool) {
	h := normName(name)
	for _, z := range s.zones {
		if faults.Glob(z.pattern, h) {
			return z.apex, true
		}
	}
	return "", false
}

// emulator returns the address lab names resolve to for the client behind
// w: the emulator's listening IP, or, when it listens on every address,
// our own address as that client sees it.
func (s *dnsService) emulator(w dns.ResponseWriter) (netip.Addr, bool) {
	p := s.lab.Load()
	if p == nil {
		ip, err := netip.ParseAddr(s.w.emulatorIP())
		if err != nil {
			return netip.Addr{}, false // no emulator (yet): forward
		}
		ip = ip.Unmap().WithZone("")
		p = &ip
		s.lab.Store(p)
	}
	if !p.IsUnspecified() {
		return *p, true
	}
	local := s.localIP(w)
	if !local.IsValid() || (p.Is4() && !local.Is4()) {
		return netip.Addr{}, false
	}
	return local, true
}

// localIP is our address as the client behind w reaches it: the socket's
// own if bound to one, else the source the kernel would route from.
func (s *dnsService) localIP(w dns.ResponseWriter) netip.Addr {
	if ip := addrIP(w.LocalAddr()); ip.IsValid() && !ip.IsUnspecified() {
		return ip
	}
	client := addrIP(w.RemoteAddr())
	if !client.IsValid() {
		return netip.Addr{}
	}
	s.routeMu.Lock()
	src, ok := s.routes[client]
	s.routeMu.Unlock()
	if ok {
		return src
	}
	src = routeSource(client)
	if src.IsValid() {
		s.routeMu.Lock()
		if len(s.routes) < dnsRouteCacheMax {
			s.routes[client] = src
		}
		s.routeMu.Unlock()
	}
	return src
}

// routeSource returns the source address the kernel picks toward client.
// Connecting a UDP socket sends nothing.
func routeSource(client netip.Addr) netip.Addr {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(client, 53)))
	if err != nil {
		return netip.Addr{}
	}
	defer c.Close()
	return addrIP(c.LocalAddr())
}

// addrString formats a client address as net.Addr.String does, IPv4
// without its IPv6 mapping, through net/netip (a third of the cost).
func addrString(a net.Addr) string {
	var ap netip.AddrPort
	switch a := a.(type) {
	case *net.UDPAddr:
		ap = a.AddrPort()
	case *net.TCPAddr:
		ap = a.AddrPort()
	default:
		return a.String()
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String()
}

// addrIP is the unmapped IP of a UDP or TCP address (invalid otherwise).
func addrIP(a net.Addr) netip.Addr {
	var ip netip.Addr
	switch a := a.(type) {
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	}
	return ip.Unmap()
}

// forward asks the configured resolvers in order and relays the first
// answer; none configured: REFUSED; none answering: SERVFAIL.
func (s *dnsService) forward(w dns.ResponseWriter, r *dns.Msg) {
	if len(s.resolvers) == 0 {
		faults.DNSRcode(w, r, dns.RcodeRefused)
		return
	}
	if wt, ok := w.(waiter); ok {
		wt.willWait() // the resolvers' answer takes a round trip
	}
	udp := w.LocalAddr().Network() == "udp"
	var errs []error
	for _, addr := range s.resolvers {
		resp, err := s.exchange(r, addr, udp)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", addr, err))
			continue
		}
		resp.Id = r.Id
		if udp {
			resp.Truncate(udpSize(r))
		}
		_ = w.WriteMsg(resp)
		return
	}
	err := errors.Join(errs...)
	s.log.Debug("dns forward failed", "name", r.Question[0].Name, "err", err)
	s.w.journal.Add(Event{Kind: EventError, Service: "dns", Host: normName(r.Question[0].Name), Detail: "forward: " + err.Error()})
	faults.DNSRcode(w, r, dns.RcodeServerFailure)
}

// exchange asks one resolver, over TCP when the client used TCP or the
// UDP answer was truncated.
func (s *dnsService) exchange(r *dns.Msg, addr string, udp bool) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(s.ctx, dnsForwardTimeout)
	defer cancel()
	c := s.tcpClient
	if udp {
		c = s.udpClient
	}
	resp, _, err := c.ExchangeContext(ctx, r, addr)
	if err == nil && resp.Truncated && udp {
		resp, _, err = s.tcpClient.ExchangeContext(ctx, r, addr)
	}
	return resp, err
}

// udpSize is the largest UDP answer the client of r accepts.
func udpSize(r *dns.Msg) int {
	if opt := r.IsEdns0(); opt != nil {
		return max(dns.MinMsgSize, int(opt.UDPSize()))
	}
	return dns.MinMsgSize
}

// normName is a query name as the fault matchers and the journal see it:
// lowercase, without the trailing dot.
func normName(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// qtypeString is the mnemonic of a query type ("TYPE65280" if unnamed).
func qtypeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return dns.Type(t).String()
}
