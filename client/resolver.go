package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
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
	rcode  dnsmessage.RCode
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
	case ans.rcode == dnsmessage.RCodeSuccess && len(ans.addrs) > 0:
		r.cache.putPositive(host, ans.addrs, ans.ttl, r.now())
		return ans.addrs, nil
	case ans.rcode == dnsmessage.RCodeSuccess, ans.rcode == dnsmessage.RCodeNameError:
		reason := ReasonNoData
		if ans.rcode == dnsmessage.RCodeNameError {
			reason = ReasonNXDomain
		}
		if ans.soa { // RFC 2308 5: no SOA, no negative caching
			r.cache.putNegative(host, reason, ans.ttl, r.now())
		}
		return nil, &NameError{Host: host, Reason: reason}
	case ans.rcode == dnsmessage.RCodeRefused:
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
			case a.rcode == dnsmessage.RCodeSuccess || a.rcode == dnsmessage.RCodeNameError:
				return a, nil
			default:
				r.log.Debug("dns: server failure", "host", host, "server", a.server, "rcode", a.rcode.String())
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
	name, err := dnsmessage.NewName(strings.TrimSuffix(host, ".") + ".")
	if err != nil {
		return dnsAnswer{server: server, err: fmt.Errorf("dns query for %q: %w", host, err)}
	}
	id := uint16(rand.Uint32())
	q := dnsmessage.Message{
		Header:    dnsmessage.Header{ID: id, RecursionDesired: true},
		Questions: []dnsmessage.Question{{Name: name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET}},
	}
	query, err := q.Pack()
	if err != nil {
		return dnsAnswer{server: server, err: fmt.Errorf("dns query for %q: %w", host, err)}
	}
	wait := r.step(dnsGiveUp)
	in, err := dnsRoundTrip(ctx, "udp", server, query, id, wait)
	if err == nil && in.Truncated {
		in, err = dnsRoundTrip(ctx, "tcp", server, query, id, wait)
	}
	if err != nil {
		return dnsAnswer{server: server, err: err}
	}
	a := dnsAnswer{server: server, rcode: in.RCode}
	ttl := uint32(1<<32 - 1)
	for _, rr := range in.Answers {
		if ar, ok := rr.Body.(*dnsmessage.AResource); ok {
			a.addrs = append(a.addrs, netip.AddrFrom4(ar.A))
			ttl = min(ttl, rr.Header.TTL)
		}
	}
	if len(a.addrs) > 0 {
		a.ttl = time.Duration(ttl) * time.Second
		return a
	}
	for _, rr := range in.Authorities {
		if soa, ok := rr.Body.(*dnsmessage.SOAResource); ok {
			a.soa = true
			a.ttl = time.Duration(min(rr.Header.TTL, soa.MinTTL)) * time.Second
		}
	}
	return a
}

// dnsRoundTrip sends query over network ("udp" or "tcp", with TCP's
// two-byte length prefix) and reads the answer with the same id, within
// wait.
func dnsRoundTrip(ctx context.Context, network, server string, query []byte, id uint16, wait time.Duration) (*dnsmessage.Message, error) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, network, server)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	if network == "tcp" {
		query = append([]byte{byte(len(query) >> 8), byte(len(query))}, query...)
	}
	if _, err := c.Write(query); err != nil {
		return nil, err
	}
	for {
		var b []byte
		if network == "tcp" {
			var n [2]byte
			if _, err := io.ReadFull(c, n[:]); err != nil {
				return nil, err
			}
			b = make([]byte, int(n[0])<<8|int(n[1]))
			if _, err := io.ReadFull(c, b); err != nil {
				return nil, err
			}
		} else {
			b = make([]byte, 65535)
			n, err := c.Read(b)
			if err != nil {
				return nil, err
			}
			b = b[:n]
		}
		var m dnsmessage.Message
		if err := m.Unpack(b); err != nil {
			if network == "tcp" {
				return nil, fmt.Errorf("dns answer from %s: %w", server, err)
			}
			continue // a stray datagram: wait for the answer
		}
		if m.ID != id || !m.Response {
			if network == "tcp" {
				return nil, fmt.Errorf("dns answer from %s: id %d, want %d", server, m.ID, id)
			}
			continue
		}
		return &m, nil
	}
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
