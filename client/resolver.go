package client

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/miekg/dns"
)

// dnsSchedule is the Windows DNS client's retry schedule for one name
// ([KB2834226], learn.microsoft.com/troubleshoot/windows-server/networking/
// dns-client-resolution-timeouts): queries leave at 0, 1, 2, 4 and 8 s and
// the client gives up at 10 s. The first query goes to the first server,
// the second to the second server (the first again when there is only
// one), later ones to every server still under consideration. A Name
// Error (NXDOMAIN) ends the process at once; a server that answers
// SERVFAIL or REFUSED is dropped and the others are still asked.
var dnsSchedule = []time.Duration{0, 1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}

// dnsGiveUp is when the schedule ends ([KB2834226]).
const dnsGiveUp = 10 * time.Second

// minDNSStep is the lab's floor for each scaled step of the schedule: at
// time_scale 0.01 a 1 s step would be 10 ms, shorter than a loaded test
// machine needs to answer, and every early retransmission is a new query
// that a fault's when selector counts.
const minDNSStep = 50 * time.Millisecond

// resolver is the emulated Windows DNS client: hosts file, cache, then the
// configured servers with the retry schedule above, IPv4 (A) only — the
// emulated machine has no IPv6 address, so getaddrinfo asks for A records
// alone. It never uses the host's resolver.
type resolver struct {
	servers []string // host:port, in order
	hosts   map[string]netip.Addr
	cache   *dnsCache
	now     func() time.Time // the machine clock, for the cache
	scale   float64          // time_scale
	timeout time.Duration    // WinHTTP resolve timeout, scaled; 0: none
	log     *slog.Logger
}

// dnsAnswer is one server's answer to one query.
type dnsAnswer struct {
	server string
	rcode  int
	addrs  []netip.Addr
	ttl    time.Duration // positive TTL, or the negative TTL from the SOA
	soa    bool          // a negative answer carried an SOA (cacheable)
	err    error         // no usable answer (timeout, socket error)
}

// lookup resolves host to IPv4 addresses, or fails with a *NameError.
func (r *resolver) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	if ip, ok := r.hosts[cacheKey(host)]; ok {
		return []netip.Addr{ip}, nil
	}
	if e, ok := r.cache.get(host, r.now()); ok {
		if e.addrs == nil {
			return nil, &NameError{Host: host, Reason: e.reason, Cached: true}
		}
		return e.addrs, nil
	}
	if len(r.servers) == 0 {
		return nil, &NameError{Host: host, Reason: ReasonNoServers}
	}
	if r.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.timeout)
		defer cancel()
	}
	ans, err := r.query(ctx, host)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && r.timeout > 0 {
			return nil, &NameError{Host: host, Reason: ReasonResolveTimeout}
		}
		return nil, err
	}
	switch {
	case ans.rcode == dns.RcodeSuccess && len(ans.addrs) > 0:
		r.cache.putPositive(host, ans.addrs, ans.ttl, r.now())
		return ans.addrs, nil
	case ans.rcode == dns.RcodeSuccess, ans.rcode == dns.RcodeNameError:
		reason := ReasonNoData
		if ans.rcode == dns.RcodeNameError {
			reason = ReasonNXDomain
		}
		if ans.soa { // RFC 2308 5: no SOA, no negative caching
			r.cache.putNegative(host, reason, ans.ttl, r.now())
		}
		return nil, &NameError{Host: host, Reason: reason}
	case ans.rcode == dns.RcodeRefused:
		return nil, &NameError{Host: host, Reason: ReasonRefused}
	default:
		return nil, &NameError{Host: host, Reason: ReasonServFail}
	}
}

// step scales one interval of the schedule, with the lab floor.
func (r *resolver) step(d time.Duration) time.Duration {
	return max(time.Duration(float64(d)*r.scale), minDNSStep)
}

// query runs the retry schedule and returns the decisive answer: the
// first positive or negative (NXDOMAIN, NODATA) one, or, when every
// server answered SERVFAIL/REFUSED, the last of those. It fails with a
// *NameError (timeout) when the schedule ends without one, or with the
// context's error.
func (r *resolver) query(ctx context.Context, host string) (dnsAnswer, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan dnsAnswer, len(r.servers)*(len(dnsSchedule)+1))
	failed := map[string]dnsAnswer{} // servers that answered SERVFAIL/REFUSED
	send := func(servers ...string) {
		for _, s := range servers {
			if _, bad := failed[s]; bad {
				continue
			}
			go func() { results <- r.exchange(ctx, s, host) }()
		}
	}
	// Offsets of the attempts and of the end, scaled.
	var at []time.Duration
	var t time.Duration
	prev := time.Duration(0)
	for _, off := range append(dnsSchedule[1:], dnsGiveUp) {
		t += r.step(off - prev)
		prev = off
		at = append(at, t)
	}
	start := time.Now()
	timer := time.NewTimer(at[0])
	defer timer.Stop()
	attempt := 0
	send(r.servers[0])
	for {
		select {
		case <-ctx.Done():
			return dnsAnswer{}, ctx.Err()
		case a := <-results:
			switch {
			case a.err != nil:
				r.log.Debug("dns: no answer", "host", host, "server", a.server, "err", a.err)
			case a.rcode == dns.RcodeSuccess || a.rcode == dns.RcodeNameError:
				return a, nil
			default:
				r.log.Debug("dns: server failure", "host", host, "server", a.server, "rcode", dns.RcodeToString[a.rcode])
				failed[a.server] = a
				if len(failed) == len(r.servers) {
					return a, nil
				}
				// The next server is asked at once rather than at the
				// next step of the schedule (inferred: the schedule
				// documents timeouts, not server failures).
				for _, s := range r.servers {
					if _, bad := failed[s]; !bad {
						send(s)
						break
					}
				}
			}
		case <-timer.C:
			attempt++
			if attempt >= len(dnsSchedule) {
				r.log.Debug("dns: gave up", "host", host, "after", time.Since(start))
				return dnsAnswer{}, &NameError{Host: host, Reason: ReasonTimeout}
			}
			switch {
			case attempt == 1 && len(r.servers) > 1:
				send(r.servers[1])
			case attempt == 1:
				send(r.servers[0])
			default:
				send(r.servers...)
			}
			timer.Reset(at[attempt] - time.Since(start))
		}
	}
}

// exchange sends one A query to server over UDP, and again over TCP when
// the answer is truncated, as the Windows DNS client does.
func (r *resolver) exchange(ctx context.Context, server, host string) dnsAnswer {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(host), dns.TypeA)
	m.RecursionDesired = true
	wait := r.step(dnsGiveUp)
	c := &dns.Client{Net: "udp", Timeout: wait}
	in, _, err := c.ExchangeContext(ctx, m, server)
	if err == nil && in.Truncated {
		c = &dns.Client{Net: "tcp", Timeout: wait}
		in, _, err = c.ExchangeContext(ctx, m, server)
	}
	if err != nil {
		return dnsAnswer{server: server, err: err}
	}
	a := dnsAnswer{server: server, rcode: in.Rcode}
	ttl := uint32(1<<32 - 1)
	for _, rr := range in.Answer {
		if ar, ok := rr.(*dns.A); ok {
			if ip, ok := netip.AddrFromSlice(ar.A.To4()); ok {
				a.addrs = append(a.addrs, ip)
				ttl = min(ttl, ar.Hdr.Ttl)
			}
		}
	}
	if len(a.addrs) > 0 {
		a.ttl = time.Duration(ttl) * time.Second
		return a
	}
	for _, rr := range in.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			a.soa = true
			a.ttl = time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
		}
	}
	return a
}

// dialAddrs connects to the first address that accepts, with WinHTTP's
// connect timeout for the whole attempt.
func dialAddrs(ctx context.Context, d *net.Dialer, addrs []netip.Addr, port string) (net.Conn, error) {
	var firstErr error
	for _, a := range addrs {
		c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(a.String(), port))
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, firstErr
}
