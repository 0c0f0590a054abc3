package simulate

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wufault/wufault/faults"
)

// A world serves a fleet: every client (by its source address) meets the
// scenario assigned to the most specific client network (CIDR) holding
// its address, or the default scenario when none does. Each client address
// arms its own copy of its scenario, so `when` counters (first: 3, every:
// 2 …) count that client's events only: two VMs in one scenario each see
// their first three resets.
//
// Overlapping assignments resolve to the longest prefix: with 10.0.0.0/8
// and 10.1.0.0/16 assigned, 10.1.2.3 meets the /16's scenario, 10.2.0.1
// the /8's.

// maxClientSets bounds the per-client copies a world keeps; clients beyond
// it share one copy per scenario (their counters are shared).
const maxClientSets = 4096

// plan is one scenario as assigned: what each client arms a copy of.
type plan struct {
	name  string
	seed  int64
	specs []faults.Spec
	since time.Time
	named []netip.Addr // addresses the faults name (destination.go)
}

// newPlan prepares a scenario for assignment.
func newPlan(name string, seed int64, specs []faults.Spec) *plan {
	return &plan{name: name, seed: seed, specs: specs, since: time.Now(), named: namedAddrs(specs)}
}

// names reports whether a scenario in use (the default or an assigned
// one) names ip: the proxy may reach such a loopback or link-local
// destination.
func (f *fleet) names(ip netip.Addr) bool {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if slices.Contains(f.def.named, ip) {
		return true
	}
	for _, a := range f.assigns {
		if slices.Contains(a.plan.named, ip) {
			return true
		}
	}
	return false
}

// assignment is a client network and its scenario.
type assignment struct {
	prefix netip.Prefix
	plan   *plan
}

// fleet holds the default scenario, the assignments and the per-client
// copies.
type fleet struct {
	mu       sync.RWMutex
	def      *plan
	assigns  []assignment // longest prefix first
	clients  map[netip.Addr]*Active
	overflow map[*plan]*Active
}

func newFleet() *fleet {
	return &fleet{def: &plan{since: time.Now()}, clients: map[netip.Addr]*Active{}, overflow: map[*plan]*Active{}}
}

// planFor returns the plan of ip and the network it was assigned by
// (invalid: the default).
func (f *fleet) planFor(ip netip.Addr) (*plan, netip.Prefix) {
	for _, a := range f.assigns {
		if a.prefix.Contains(ip) {
			return a.plan, a.prefix
		}
	}
	return f.def, netip.Prefix{}
}

// active returns the scenario ip meets, armed for ip.
func (f *fleet) active(ip netip.Addr) *Active {
	f.mu.RLock()
	p, _ := f.planFor(ip)
	a := f.clients[ip]
	f.mu.RUnlock()
	if a != nil && a.plan == p {
		return a
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p, pfx := f.planFor(ip) // it may have changed meanwhile
	if a := f.clients[ip]; a != nil && a.plan == p {
		return a
	}
	if _, known := f.clients[ip]; !known && len(f.clients) >= maxClientSets {
		if a := f.overflow[p]; a != nil {
			return a
		}
		a := p.arm(pfx)
		f.overflow[p] = a
		return a
	}
	a = p.arm(pfx)
	f.clients[ip] = a
	return a
}

// arm makes a client's copy of p: the selection clock starts when p was
// assigned, not at the client's first event.
func (p *plan) arm(pfx netip.Prefix) *Active {
	first := true
	clock := func() time.Time {
		if first { // NewSet's one call, before the set is shared
			first = false
			return p.since
		}
		return time.Now()
	}
	a := &Active{Name: p.name, Seed: p.seed, Set: faults.NewSet(p.specs, p.seed, clock), Since: p.since, plan: p}
	if pfx.IsValid() {
		a.Client = pfx.String()
	}
	return a
}

// setDefault replaces the default scenario.
func (f *fleet) setDefault(p *plan) {
	f.mu.Lock()
	f.def = p
	f.prune()
	f.mu.Unlock()
}

// assign gives the clients in pfx the scenario p (nil: removes the
// assignment); it reports whether pfx had one.
func (f *fleet) assign(pfx netip.Prefix, p *plan) (had bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.assigns, func(a assignment) bool { return a.prefix == pfx })
	had = i >= 0
	switch {
	case p == nil && had:
		f.assigns = slices.Delete(f.assigns, i, i+1)
	case p != nil && had:
		f.assigns[i].plan = p
	case p != nil:
		f.assigns = append(f.assigns, assignment{pfx, p})
		slices.SortStableFunc(f.assigns, func(a, b assignment) int {
			if d := b.prefix.Bits() - a.prefix.Bits(); d != 0 {
				return d
			}
			return a.prefix.Addr().Compare(b.prefix.Addr())
		})
	}
	f.prune()
	return had
}

// prune drops the copies of plans no longer in use (f.mu held).
func (f *fleet) prune() {
	for ip, a := range f.clients {
		if p, _ := f.planFor(ip); p != a.plan {
			delete(f.clients, ip)
		}
	}
	clear(f.overflow)
}

// ClientView is one assignment as GET /clients shows it.
type ClientView struct {
	// Client is the client network ("192.168.56.10/32"), or "default" for
	// every client no assignment holds.
	Client   string       `json:"client"`
	Scenario ScenarioView `json:"scenario"`
	// Addresses are the client addresses seen in this assignment, with
	// their own hits.
	Addresses []ClientAddr `json:"addresses"`
}

// ClientAddr is one client address and the hits of its copy of the
// scenario's rules, in scenario order.
type ClientAddr struct {
	Address string        `json:"address"`
	Hits    []faults.Hits `json:"hits"`
}

// views lists the assignments, most specific first, then the default.
func (f *fleet) views() []ClientView {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]ClientView, 0, len(f.assigns)+1)
	add := func(name string, p *plan) {
		v := ClientView{Client: name, Scenario: ScenarioView{Name: p.name, Seed: p.seed, Since: p.since, Faults: []RuleView{}}, Addresses: []ClientAddr{}}
		v.Scenario.Faults = f.rulesOf(p, &v)
		out = append(out, v)
	}
	for _, a := range f.assigns {
		add(a.prefix.String(), a.plan)
	}
	add("default", f.def)
	return out
}

// rulesOf is p's rules with the hits of every client copy summed, and
// each client's own hits in v (f.mu held).
func (f *fleet) rulesOf(p *plan, v *ClientView) []RuleView {
	sum := make([]faults.Hits, len(p.specs))
	addrs := make([]netip.Addr, 0)
	for ip, a := range f.clients {
		if a.plan == p {
			addrs = append(addrs, ip)
		}
	}
	slices.SortFunc(addrs, netip.Addr.Compare)
	addHits := func(a *Active) []faults.Hits {
		hs := make([]faults.Hits, len(p.specs))
		for i, r := range a.Set.Rules() {
			hs[i] = r.Hits()
			sum[i].Matched += hs[i].Matched
			sum[i].Fired += hs[i].Fired
		}
		return hs
	}
	for _, ip := range addrs {
		v.Addresses = append(v.Addresses, ClientAddr{Address: ip.String(), Hits: addHits(f.clients[ip])})
	}
	if a := f.overflow[p]; a != nil {
		v.Addresses = append(v.Addresses, ClientAddr{Address: "others", Hits: addHits(a)})
	}
	view := viewOf(p.arm(netip.Prefix{}))
	for i := range view.Faults {
		view.Faults[i].Hits = sum[i]
	}
	return view.Faults
}

// ParsePrefix reads a client network: a CIDR ("10.0.0.0/24") or one
// address ("10.0.0.5", meaning /32 or /128). Host bits must be zero.
func ParsePrefix(s string) (netip.Prefix, error) {
	if ip, err := netip.ParseAddr(s); err == nil {
		ip = ip.Unmap()
		return netip.PrefixFrom(ip, ip.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("client %q: want an IP address or a CIDR such as 192.168.56.0/24", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("client %q: host bits set (did you mean %s?)", s, p.Masked())
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p, nil
}

// ActiveFor returns the scenario the client at ip meets, armed for it.
func (w *World) ActiveFor(ip netip.Addr) *Active { return w.fleet.active(ip.Unmap()) }

// activeForAddr is ActiveFor of a "host:port" remote address.
func (w *World) activeForAddr(remote string) *Active {
	ap, err := netip.ParseAddrPort(remote)
	if err != nil {
		return w.ActiveFor(netip.Addr{})
	}
	return w.ActiveFor(ap.Addr())
}

// activeForNet is ActiveFor of a connection's remote address.
func (w *World) activeForNet(a net.Addr) *Active { return w.ActiveFor(addrIP(a)) }

// Assign gives the clients in pfx a scenario of their own; specs nil
// and name "" leave them with no faults. It is journaled as a scenario
// event of that client network.
func (w *World) Assign(pfx netip.Prefix, name string, seed int64, specs []faults.Spec) {
	w.fleet.assign(pfx, newPlan(name, seed, specs))
	w.metrics.scenarios.Inc()
	w.journal.Add(Event{Kind: EventScenario, Scenario: name, Client: pfx.String(), Detail: fmt.Sprintf("%d faults, seed %d", len(specs), seed)})
}

// Unassign returns the clients in pfx to the default scenario.
func (w *World) Unassign(pfx netip.Prefix) error {
	if !w.fleet.assign(pfx, nil) {
		return errors.New("no assignment for " + pfx.String())
	}
	w.metrics.scenarios.Inc()
	w.journal.Add(Event{Kind: EventScenario, Scenario: w.fleet.defaultName(), Client: pfx.String(), Detail: "assignment removed: back to the default scenario"})
	return nil
}

// Clients lists the assignments (most specific first) and the default.
func (w *World) Clients() []ClientView { return w.fleet.views() }

func (f *fleet) defaultName() string {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.def.name
}

// clientCollector exports, per client address, the firings of its copy of
// its scenario (wufault_client_faults_fired_total).
type clientCollector struct {
	f    *fleet
	desc *prometheus.Desc
}

func newClientCollector(f *fleet) *clientCollector {
	return &clientCollector{f: f, desc: prometheus.NewDesc("wufault_client_faults_fired_total",
		"Rule firings per client address and scenario (the client's own when counters; restarts when its scenario changes).",
		[]string{"client", "scenario"}, nil)}
}

func (c *clientCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *clientCollector) Collect(ch chan<- prometheus.Metric) {
	c.f.mu.RLock()
	defer c.f.mu.RUnlock()
	for ip, a := range c.f.clients {
		var n int64
		for _, r := range a.Set.Rules() {
			n += r.Hits().Fired
		}
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(n), ip.String(), a.Name)
	}
}
