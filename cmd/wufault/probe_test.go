package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/scenarios"
	"github.com/wufault/wufault/simulate"
	"github.com/wufault/wufault/simulate/wsus"
)

// probeWorld starts a WSUS emulator named wsus.wufault.test, a resolver
// for that name, and a world (proxy and DNS) forwarding to it: loopback
// only.
func probeWorld(t *testing.T) (w *simulate.World, server string) {
	t.Helper()
	s, err := wsus.New(wsus.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	origin := httptest.NewServer(s)
	t.Cleanup(origin.Close)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, NotifyStartedFunc: func() { close(up) }, Handler: dns.HandlerFunc(func(rw dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.RecursionAvailable = true
		if q := r.Question[0]; q.Name == "wsus.wufault.test." && q.Qtype == dns.TypeA {
			m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP("127.0.0.1")}}
		} else if q.Name != "wsus.wufault.test." {
			m.Rcode = dns.RcodeNameError
		}
		_ = rw.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	<-up
	t.Cleanup(func() { _ = srv.Shutdown() })
	w, err = simulate.New(context.Background(), simulate.Options{Proxy: "127.0.0.1:0", DNS: "127.0.0.1:0", Resolvers: []string{pc.LocalAddr().String()},
		AllowUpstream: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}) // the test's emulator, outside the world
	if err != nil {
		t.Skipf("world services not available yet: %v", err)
	}
	t.Cleanup(func() { _ = w.Close() })
	_, port, _ := net.SplitHostPort(origin.Listener.Addr().String())
	return w, "http://wsus.wufault.test:" + port
}

func activate(t *testing.T, w *simulate.World, list string) {
	t.Helper()
	sc, err := scenarios.Load(strings.NewReader("name: t\nfaults:\n"+list), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	w.Activate(sc.Name, 1, sc.Faults)
}

func TestProbeCommand(t *testing.T) {
	w, server := probeWorld(t)
	a := w.Addrs()
	args := []string{"probe", "--wsus", server, "--dns", a.DNS, "--proxy", "http://" + a.Proxy, "--time-scale", "0.05"}

	out, errs, status := runCmd(t, append(args, "--json")...)
	if status != 0 {
		t.Fatalf("status %d: %s\n%s", status, errs, out)
	}
	var rep struct {
		Pass      bool `json:"pass"`
		Endpoints []struct {
			URL   string `json:"url"`
			Pass  bool   `json:"pass"`
			Range string `json:"range"`
			Code  string `json:"code"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if !rep.Pass || len(rep.Endpoints) != 5 || rep.Endpoints[0].Range != "supported" {
		t.Errorf("report %+v", rep)
	}

	activate(t, w, "- {kind: proxy.auth, schemes: [basic], users: [{user: alice, password: pw}]}")
	out, _, status = runCmd(t, args...)
	if status != 1 || !strings.Contains(out, "0x8024401B") || !strings.Contains(out, "some required endpoints failed") {
		t.Errorf("407: status %d\n%s", status, out)
	}
	t.Setenv("WUFAULT_PROXY_PASSWORD", "pw")
	out, errs, status = runCmd(t, append(args, "--proxy-user", "alice")...)
	if status != 0 {
		t.Errorf("with credentials: status %d: %s\n%s", status, errs, out)
	}

	if _, _, status := runCmd(t, "probe", "--generation", "vista", "--dns", a.DNS); status == 0 {
		t.Error("a bad --generation was accepted")
	}
}
