package simulate

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// worldMetrics are a world's Prometheus metrics, in a registry of its own
// (no global registry: two worlds in one process do not collide). Counters
// are updated per connection, request or firing, never per byte.
type worldMetrics struct {
	reg *prometheus.Registry

	conns      *prometheus.CounterVec // by service, result (accepted, denied, refused)
	open       *prometheus.GaugeVec   // by service
	requests   *prometheus.CounterVec // by service, method kind (http, connect, intercepted), class
	responses  *prometheus.CounterVec // by service, status class (2xx…5xx, none)
	bytes      *prometheus.CounterVec // by service, direction (to_client, from_client)
	upstream   *prometheus.CounterVec // upstream failures by status given (502, 504)
	spliced    prometheus.Counter     // plain-HTTP body bytes handed socket to socket, per answer
	refused    prometheus.Counter     // destinations the proxy's policy refused (destination.go)
	clientErr  *prometheus.CounterVec // requests the client broke, by service
	fired      *prometheus.CounterVec // rules selected, by kind
	acted      *prometheus.CounterVec // fault actions reported by hooks, by kind
	scenarios  prometheus.Counter     // activations
	dnsQueries *prometheus.CounterVec // DNS questions by transport and rcode given
	controlReq *prometheus.CounterVec // control API requests by path, code
}

func newWorldMetrics(w *World) *worldMetrics {
	m := &worldMetrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	m.conns = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wufault_connections_total", Help: "Client connections accepted, denied (client not allowed) or refused by a fault."}, []string{"service", "result"})
	m.open = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "wufault_connections_open", Help: "Client connections open now."}, []string{"service"})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wufault_requests_total", Help: "HTTP requests and CONNECT tunnels received."}, []string{"service", "kind", "class"})
	m.responses = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wufault_responses_total", Help: "Answers by status class (none: the connection ended first)."}, []string{"service", "status"})
	m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wufault_bytes_total", Help: "Bytes through client connections, counted when they close."}, []string{"service", "direction"})
	m.upstream = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wufault_upstream_errors_total", Help: "Upstream failures answered by the proxy, by the status given."}, []string{"status"})
	m.spliced = prometheus.NewCounter(prometheus.CounterOpts{Name: "wufault_proxy_spliced_bytes_total", Help: "Plain-HTTP response body bytes the proxy handed from the origin socket to the client socket in the kernel (splice), counted per answer."})
	m.refused = prometheus.NewCounter(prometheus.CounterOpts{Name: "wufault_refused_destinations_total", Help: "Proxy requests and tunnels refused by the destination policy (the world's own listeners, loopback, link-local)."})
	m.clientErr = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wufault_client_errors_total", Help: "Requests the client broke (a bad body, a connection gone before the answer), by service."}, []string{"service"})
	m.fired = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wufault_faults_fired_total", Help: "Rules selected to fire, by fault kind."}, []string{"kind"})
	m.acted = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wufault_fault_actions_total", Help: "Actions reported by armed connection faults (reset, FIN, stall …), by kind."}, []string{"kind"})
	m.scenarios = prometheus.NewCounter(prometheus.CounterOpts{Name: "wufault_scenario_activations_total", Help: "Scenarios activated (at start with --scenario, or through the control API)."})
	m.dnsQueries = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wufault_dns_queries_total", Help: "DNS questions answered, by transport and rcode (none: no answer was sent)."}, []string{"transport", "rcode"})
	m.controlReq = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "wufault_control_requests_total", Help: "Control API requests by route and status code."}, []string{"route", "code"})
	for _, c := range []prometheus.Collector{m.conns, m.open, m.requests, m.responses, m.bytes, m.upstream, m.spliced, m.refused, m.clientErr, m.fired, m.acted, m.scenarios, m.dnsQueries, m.controlReq} {
		f(c)
	}
	f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "wufault_journal_dropped_total", Help: "Journal events a slow stream subscriber missed."},
		func() float64 { return float64(w.journal.Dropped()) }))
	f(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "wufault_active_rules", Help: "Rules in the active scenario."},
		func() float64 { return float64(len(w.Default().Faults)) }))
	f(newClientCollector(w.fleet)) // fleet.go
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// statusClass is the label of a status: "2xx" … "5xx", "none" for 0.
func statusClass(s int) string {
	if s < 100 || s > 599 {
		return "none"
	}
	return string(rune('0'+s/100)) + "xx"
}
